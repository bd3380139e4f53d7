using System.CommandLine;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsRemoveCommand
{
    public static Command Create() => PluginPrint.IdCommand("remove", PluginMethods.Remove,
        "Remove a plugin: unload it, delete its files and its data folder. The audit log keeps that it was installed and removed.", TimeSpan.FromSeconds(30));
}
