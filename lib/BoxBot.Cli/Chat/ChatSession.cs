using System.Runtime.InteropServices;
using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli.Chat;

/// <summary>
/// Interactive <c>boxbot chat</c>: a line, a turn, its messages, again. On a terminal the line is edited with
/// <see cref="LineEditor"/>; with stdin from a pipe or file each line is a message and the end of input leaves.
/// </summary>
internal static class ChatSession
{
    /// <summary>The outcome of a turn that could not be had (the agent's own word for it, and the CLI's when the call fails).</summary>
    public const string FailedOutcome = "failed";

    private const string Prompt = "> ";

    // A turn may run scripts and several model calls; the agent's own limit on chat.send is 30 minutes.
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromMinutes(31);

    public static Task<(ChatResult? Result, Failure? Failure)> SendAsync(string text, CancellationToken cancellationToken) =>
        AgentCall.TryCallAsync(Daemons.Agent, ChatMethods.Send, new ChatRequest { Text = text }, ConversationsJsonContext.Default.ChatRequest,
            ConversationsJsonContext.Default.ChatResult, TurnTimeout, cancellationToken);

    /// <summary>Says on stderr why a turn did not end well; returns the exit code for it.</summary>
    public static int Report(ChatResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Outcome switch
        {
            FailedOutcome => Failures.Fail("the turn failed: " + (result.Error ?? "see the agent's log")),
            "budget" => Failures.Fail("the daily LLM budget ([agent.llm] daily_budget_usd) allows no more model calls today (0 allows none at all); " +
                "turns start again tomorrow (UTC), or once it is raised and the agent restarted"),
            _ => ExitCodes.Ok,
        };
    }

    /// <summary>
    /// A turn that ended well but sent the person nothing (the model kept its answer in its private notes, or its message
    /// was refused) would otherwise leave a silent prompt: say so, and where to look.
    /// </summary>
    public static void NoteSilence(ChatResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Messages.Count == 0 && result.Outcome is "done" or "limit")
        {
            Console.Error.WriteLine("boxbot: the assistant sent you no message this turn (`boxbot log` shows what it did)");
        }
    }

    /// <summary>
    /// Before the first line is typed: is there an agent with a model to talk to? Saying so now beats a greeting followed
    /// by the same refusal after every line. Null when there is; otherwise the failure.
    /// </summary>
    private static async Task<Failure?> CheckAgentAsync(CancellationToken cancellationToken)
    {
        var paths = BoxPaths.FromEnvironment();
        var (status, failure) = await AgentCall.TryCallAsync(Daemons.Agent, SystemMethods.Status, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
            ContractsJsonContext.Default.SystemStatus, null, cancellationToken);
        if (failure is not null)
        {
            return failure;
        }
        var llm = status!.Details.GetValueOrDefault("llm") ?? "";
        return llm.StartsWith("not configured", StringComparison.Ordinal)
            ? new Failure(ExitCodes.Failure, Failures.Kinds.Unavailable,
                $"the assistant has no language model: llm={llm}. Set [agent.llm] in {paths.ConfigFile} (docs/agent.md) and restart the agent")
            : null;
    }

    /// <summary>
    /// The loop owns SIGINT (the command line's own handler is off for `chat`, see CliApp): during a turn it cancels
    /// the turn. At the terminal prompt Ctrl-C is a key the editor handles, so a SIGINT there came from elsewhere and
    /// ends the command as usual.
    /// </summary>
    public static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (await CheckAgentAsync(cancellationToken) is { } unusable)
        {
            return Failures.Report(unusable);
        }
        CancellationTokenSource? turn = null;
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            if (Volatile.Read(ref turn) is { } running)
            {
                context.Cancel = true;
                running.Cancel();
            }
        });
        var terminal = TerminalLineReader.Available ? new TerminalLineReader(Prompt) : null;
        if (terminal is not null)
        {
            Console.Error.WriteLine("boxbot chat: type a message and Enter; Ctrl-C throws the line away or cancels a turn; Ctrl-D on an empty line leaves.");
        }
        while (true)
        {
            var line = terminal is null ? Console.ReadLine() : terminal.ReadLine();
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
                var (result, failure) = await SendAsync(line, cancel.Token);
                if (failure is not null)
                {
                    Failures.Report(failure);
                }
                else
                {
                    foreach (var message in result!.Messages)
                    {
                        Console.WriteLine(message);
                    }
                    NoteSilence(result);
                    Report(result);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine("\n(cancelled)");
            }
            finally
            {
                Volatile.Write(ref turn, null);
            }
        }
    }
}
