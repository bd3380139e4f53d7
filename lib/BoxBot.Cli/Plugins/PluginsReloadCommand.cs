using System.CommandLine;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsReloadCommand
{
    public static Command Create() => PluginPrint.IdCommand("reload", PluginMethods.Reload,
        "Unload and load a plugin again (a fresh process; its data folder is kept).", TimeSpan.FromSeconds(60));
}
