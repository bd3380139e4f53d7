using System.CommandLine;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsInfoCommand
{
    public static Command Create() => PluginPrint.IdCommand("info", PluginMethods.Info,
        "Show one installed plugin: version, digest, who installed it from where, its limits and declared capabilities, its functions, and, when it crashed, its restarts and last output.",
        TimeSpan.FromSeconds(10));
}
