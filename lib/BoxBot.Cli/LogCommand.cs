using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class LogCommand
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new entries as they are appended (Ctrl-C stops)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per entry and line: id, at (Unix seconds), conversation, speaker, tool, arguments, outcome, error." };
        var last = new Option<int>("--last", "-n") { Description = "Start with the last N entries (default 50).", DefaultValueFactory = _ => 50, HelpName = "N" };
        var log = new Command("log",
            "The action log (admins): every tool call the assistant made, oldest first, with who it was for, its arguments (secret values " +
            "are never in them) and its outcome. Append-only in the agent's database.")
        { follow, json, last };
        log.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(last) < 0)
            {
                return Failures.Usage($"--last {parse.GetValue(last)}: the number of entries to start with is 0 or more");
            }
            var after = 0L;
            var (first, code) = await ReadAsync(0, int.MaxValue, ct);
            if (first is null)
            {
                return code;
            }
            var entries = first;
            if (entries.Count == 0 && !parse.GetValue(follow))
            {
                await Console.Error.WriteLineAsync("boxbot: the action log is empty: the assistant has made no tool call yet");
            }
            var skip = Math.Max(0, entries.Count - Math.Max(0, parse.GetValue(last)));
            foreach (var entry in entries.Skip(skip))
            {
                Print(entry, parse.GetValue(json));
            }
            after = entries.Count > 0 ? entries[^1].Id : 0;
            while (parse.GetValue(follow) && !ct.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(FollowInterval, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var (more, _) = await ReadAsync(after, int.MaxValue, ct);
                foreach (var entry in more ?? [])
                {
                    Print(entry, parse.GetValue(json));
                    after = entry.Id;
                }
            }
            return ExitCodes.Ok;
        });
        return log;
    }

    /// <summary>Every entry after <paramref name="after"/>, page by page.</summary>
    private static async Task<(List<ActionLogEntry>? Entries, int ExitCode)> ReadAsync(long after, int max, CancellationToken cancellationToken)
    {
        var all = new List<ActionLogEntry>();
        while (all.Count < max)
        {
            var (page, code) = await AgentCall.CallAsync(ChatMethods.Log, new ActionLogRequest { After = after, Limit = 1000 },
                ConversationsJsonContext.Default.ActionLogRequest, ConversationsJsonContext.Default.ActionLogPage, null, cancellationToken);
            if (page is null)
            {
                return (null, code);
            }
            all.AddRange(page.Entries);
            if (page.Entries.Count < 1000)
            {
                break;
            }
            after = page.Entries[^1].Id;
        }
        return (all, ExitCodes.Ok);
    }

    private static void Print(ActionLogEntry entry, bool json)
    {
        if (json)
        {
            CliJson.PrintLine(entry, ConversationsJsonContext.Default.ActionLogEntry);
            return;
        }
        var at = DateTimeOffset.FromUnixTimeSeconds(entry.At).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Console.WriteLine($"{at}  {entry.Conversation}  {entry.Tool}{(entry.Error ? " (refused/failed)" : "")}  {OneLine(entry.Arguments, 200)}  → {OneLine(entry.Outcome, 200)}");
    }

    private static string OneLine(string text, int max)
    {
        var line = string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c));
        return line.Length <= max ? line : line[..max] + "…";
    }
}
