using System.CommandLine;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsUnloadCommand
{
    public static Command Create() => PluginPrint.IdCommand("unload", PluginMethods.Unload,
        "Unload a plugin: its stop() runs, its process ends, its functions leave the mesh. It stays installed (and unloaded across restarts); its data folder is kept.", TimeSpan.FromSeconds(30));
}
