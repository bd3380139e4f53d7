using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class ChatCommand
{
    // A turn may run scripts and several model calls; the agent's own limit on chat.send is 30 minutes.
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromMinutes(31);

    private static readonly Option<string> Message = new("--message", "-m")
    {
        Description = "Send one message and print what the agent sends back, one message per line (line breaks inside a message " +
            "are printed as \\n), then exit: 0 when the turn ended, 1 when it failed (the model unreachable, the daily budget spent) " +
            "or the agent refused.",
        HelpName = "TEXT",
    };

    private static readonly Option<bool> JsonOutput = CommonOptions.Json();

    public static Command Instance { get; } = Create();

    private static Command Create()
    {
        var chat = new Command("chat",
            "Talk with the assistant from the box's shell (admins: root or the admin group). Your conversation is console:<your unix user>, " +
            "with the same engine, tools and limits as WhatsApp. Interactive: type a message and Enter; Ctrl-C cancels a turn that is running; " +
            "Ctrl-D leaves. What the assistant sends you is printed; its private notes and tool calls are not (see `boxbot log`). " +
            "Needs a configured model ([agent.llm], docs/agent.md).")
        { Message, JsonOutput };
        chat.SetAction(async (parse, ct) => parse.GetValue(Message) is { } text
            ? await OnceAsync(text, parse.GetValue(JsonOutput), ct)
            : await InteractiveAsync());
        return chat;
    }

    private static async Task<int> OnceAsync(string text, bool json, CancellationToken cancellationToken)
    {
        var (result, code) = await AgentCall.CallAsync(ChatMethods.Send, new ChatRequest { Text = text }, ConversationsJsonContext.Default.ChatRequest,
            ConversationsJsonContext.Default.ChatResult, TurnTimeout, cancellationToken);
        if (result is null)
        {
            return code;
        }
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, ConversationsJsonContext.Default.ChatResult));
        }
        else
        {
            foreach (var message in result.Messages)
            {
                Console.WriteLine(message.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
            }
        }
        return Report(result);
    }

    private static int Report(ChatResult result)
    {
        switch (result.Outcome)
        {
            case "failed":
                Console.Error.WriteLine("boxbot: the turn failed: " + (result.Error ?? "see the agent's log"));
                return ExitCodes.Failure;
            case "budget":
                Console.Error.WriteLine("boxbot: today's LLM budget is spent ([agent.llm] daily_budget_usd); turns stop until tomorrow (UTC)");
                return ExitCodes.Failure;
            default:
                return ExitCodes.Ok;
        }
    }

    /// <summary>
    /// The interactive loop owns Ctrl-C (the command line's own handler is off for `chat`, see CliApp): during a turn it
    /// cancels the turn; at the prompt it says how to leave.
    /// </summary>
    private static async Task<int> InteractiveAsync()
    {
        CancellationTokenSource? turn = null;
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            var running = Volatile.Read(ref turn);
            if (running is null)
            {
                Console.Error.WriteLine("\n(Ctrl-D leaves)");
            }
            else
            {
                running.Cancel();
            }
        });
        Console.Error.WriteLine("boxbot chat: type a message and Enter; Ctrl-C cancels a turn; Ctrl-D leaves.");
        while (true)
        {
            if (!Console.IsInputRedirected)
            {
                Console.Write("> ");
            }
            var line = Console.ReadLine();
            if (line is null)
            {
                return ExitCodes.Ok;
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var cancel = new CancellationTokenSource();
            Volatile.Write(ref turn, cancel);
            try
            {
                var (result, _) = await AgentCall.CallAsync(ChatMethods.Send, new ChatRequest { Text = line }, ConversationsJsonContext.Default.ChatRequest,
                    ConversationsJsonContext.Default.ChatResult, TurnTimeout, cancel.Token);
                if (result is not null)
                {
                    foreach (var message in result.Messages)
                    {
                        Console.WriteLine(message);
                    }
                    Report(result);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine("(cancelled)");
            }
            finally
            {
                Volatile.Write(ref turn, null);
            }
        }
    }
}
