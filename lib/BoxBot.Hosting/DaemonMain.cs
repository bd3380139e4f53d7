using System.CommandLine;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Hosting;

/// <summary>The command line every daemon shares: <c>--config</c>, <c>--log-level</c>, <c>--help</c>, <c>--version</c>.</summary>
public static class DaemonMain
{
    /// <summary>Below the units' stop timeout, above <see cref="DaemonHost.ShutdownBudget"/>: a backstop, not the plan.</summary>
    private static readonly TimeSpan TerminationTimeout = DaemonHost.ShutdownBudget + TimeSpan.FromSeconds(2);

    /// <param name="daemon">Which daemon.</param>
    /// <param name="description">
    /// What it does, in one line without a final period: the first line of its --help, and the README's table, which a test
    /// keeps equal to it.
    /// </param>
    /// <param name="args">The command line.</param>
    /// <param name="createService">Makes the daemon's service.</param>
    /// <param name="more">Further paragraphs for --help (subcommands, for example), or null.</param>
    public static async Task<int> RunAsync(DaemonInfo daemon, string description, string[] args, Func<IDaemonService> createService, string? more = null)
    {
        var config = new Option<string?>("--config")
        {
            Description = "Configuration file. Default: $BOXBOT_HOME/boxbot.toml when BOXBOT_HOME is set, else /etc/boxbot/boxbot.toml (built-in defaults if that file is missing).",
            HelpName = "FILE",
        };
        var logLevel = new Option<LogLevelSetting?>("--log-level")
        {
            Description = "Override [box] log_level: debug, info, warning or error.",
            HelpName = "LEVEL",
        };
        var root = new RootCommand($"{daemon.Executable}: {description}.\n\n" + (more is null ? "" : more + "\n\n") +
            "Started by systemd (Type=notify) on an installed box, or by `boxbot dev up` for development. " +
            "Logs go to stderr with journald priority prefixes. SIGTERM or SIGINT shuts down gracefully within 5 s.\n" +
            "Exit codes: 0 clean stop, 1 failure (bad config, cannot bind, missing prerequisite), 2 usage error.")
        {
            config,
            logLevel,
        };
        root.SetAction((parse, cancellationToken) => DaemonHost.RunAsync(daemon,
            new DaemonHostOptions(parse.GetValue(config), parse.GetValue(logLevel)), createService(), cancellationToken));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"{daemon.Executable}: {error.Message}");
            }
            Console.Error.WriteLine($"Run '{daemon.Executable} --help' for usage.");
            return 2;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TerminationTimeout });
    }
}
