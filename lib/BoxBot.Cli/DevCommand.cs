using System.CommandLine;
using BoxBot.Cli.Internal;

namespace BoxBot.Cli;

internal static class DevCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = "Configuration file for all daemons. Default: $BOXBOT_HOME/boxbot.toml, created with development defaults if missing.",
            HelpName = "FILE",
        };
        var up = new Command("up",
            "Start all five daemons from the build output for development, without systemd, with every path " +
            "(config, credentials, state, sockets) under one folder: $BOXBOT_HOME when set, else ./.boxbot-dev/.\n" +
            "Generates missing development credentials into $BOXBOT_HOME/credentials/ (mode 0600), streams every daemon's log " +
            "with its name in front, and stops them all on Ctrl-C or SIGTERM with nothing left running. A daemon that exits on " +
            "its own stops the rest (exit code 1). Daemons are looked up next to this boxbot executable, or in $BOXBOT_BIN_DIR.")
        { config };
        up.SetAction((parse, cancellationToken) => DevSupervisor.RunAsync(parse.GetValue(config), cancellationToken));
        return new Command("dev", "Development helpers (not for an installed box).") { up };
    }
}
