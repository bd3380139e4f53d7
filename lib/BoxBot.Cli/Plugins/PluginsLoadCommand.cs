using System.CommandLine;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsLoadCommand
{
    public static Command Create() => PluginPrint.IdCommand("load", PluginMethods.Load,
        "Load an installed plugin: start its confined process in the sandbox runner and offer its functions on the box's mesh device (as ID.function, and as function when no other has that name). It stays loaded across restarts.", TimeSpan.FromSeconds(60));
}
