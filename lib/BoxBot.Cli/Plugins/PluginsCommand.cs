using System.CommandLine;

namespace BoxBot.Cli.Plugins;

/// <summary><c>boxbot plugins</c>: Device Connect plugins as files (installing and running them come with the plugin host's next steps). One file per subcommand.</summary>
internal static class PluginsCommand
{
    public static Command Create() => new("plugins",
        "Device Connect plugins as files: check a plugin folder or bundle as the box would install it, and pack a folder into a bundle with its digest.")
    {
        PluginsValidateCommand.Create(),
        PluginsPackCommand.Create(),
    };
}
