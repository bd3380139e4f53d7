using System.CommandLine;
using System.Text.Json;
using BoxBot.Cli.Chat;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class ChatCommand
{
    public const string Name = "chat";

    private static readonly Option<string> Message = new("--message", "-m")
    {
        Description = "Send one message and print what the agent sends back, one message per line (line breaks inside a message " +
            "are printed as \\n), then exit: 0 when the turn ended, 1 when it failed (no model configured, the model unreachable, " +
            "the daily budget spent) or the agent refused. With --json: {\"outcome\", \"messages\", \"error\"}, also on failure.",
        HelpName = "TEXT",
    };

    private static readonly Option<bool> JsonOutput = CommonOptions.Json();

    public static Command Create()
    {
        var chat = new Command(Name,
            "Talk with the assistant from the box's shell (admins: root or the admin group). Your conversation is console:<your unix user>, " +
            "with the same engine, tools and limits as WhatsApp. Interactive: type a message and Enter, with the usual line editing " +
            "(arrows, Home/End, Backspace, Ctrl-A/E/U/K/W, Up/Down for earlier lines); Ctrl-C throws the typed line away, or cancels " +
            "a turn that is running; Ctrl-D on an empty line leaves. What the assistant sends you is printed; its private notes and " +
            "tool calls are not (see `boxbot log`). Needs a configured model ([agent.llm], docs/agent.md).")
        { Message, JsonOutput };
        chat.SetAction(async (parse, ct) => parse.GetValue(Message) is { } text
            ? await OnceAsync(text, parse.GetValue(JsonOutput), ct)
            : parse.GetValue(JsonOutput)
                ? Failures.Usage("--json goes with --message: an interactive chat prints text")
                : await ChatSession.RunAsync(ct));
        return chat;
    }

    private static async Task<int> OnceAsync(string text, bool json, CancellationToken cancellationToken)
    {
        var (result, failure) = await ChatSession.SendAsync(text, cancellationToken);
        if (failure is not null)
        {
            // The documented shape holds a failure too, so a script reads one kind of document whatever happened.
            if (json)
            {
                CliJson.Print(new ChatResult { Outcome = ChatSession.FailedOutcome, Error = failure.Text }, ConversationsJsonContext.Default.ChatResult);
            }
            return Failures.Report(failure, printJson: false);
        }
        if (json)
        {
            CliJson.Print(result!, ConversationsJsonContext.Default.ChatResult);
        }
        else
        {
            foreach (var message in result!.Messages)
            {
                Console.WriteLine(message.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
            }
        }
        ChatSession.NoteSilence(result!);
        return ChatSession.Report(result!);
    }
}
