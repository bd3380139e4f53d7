using System.CommandLine;

namespace BoxBot.Cli.Plugins;

/// <summary><c>boxbot plugins</c>: Device Connect plugins, as files and on the box (the plugin host installs them; each runs confined in the sandbox runner). One file per subcommand.</summary>
internal static class PluginsCommand
{
    public static Command Create() => new("plugins",
        "Device Connect plugins: install, list, load and remove them on the box (each runs as its own confined process), " +
        "check a plugin folder or bundle as the box would install it, and pack a folder into a bundle with its digest.")
    {
        PluginsInstallCommand.Create(),
        PluginsListCommand.Create(),
        PluginsInfoCommand.Create(),
        PluginsLoadCommand.Create(),
        PluginsUnloadCommand.Create(),
        PluginsReloadCommand.Create(),
        PluginsRemoveCommand.Create(),
        PluginsValidateCommand.Create(),
        PluginsPackCommand.Create(),
    };
}
