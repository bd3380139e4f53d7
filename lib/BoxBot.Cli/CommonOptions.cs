using System.CommandLine;
using BoxBot.Config;

namespace BoxBot.Cli;

internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON document instead of text (stable keys, for scripts)." };

    /// <summary>
    /// The CLI's view of the config: the installed file is readable by group boxbot only, so an
    /// admin outside it gets defaults (with a note) rather than an error for a read-only command.
    /// </summary>
    public static BoxBotConfig LoadForClient(BoxPaths paths)
    {
        try
        {
            return ConfigLoader.LoadOrDefaults(paths.ConfigFile).Config;
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"boxbot: note: using built-in defaults; {paths.ConfigFile} has problems (run 'boxbot config check'):");
            foreach (var error in e.Errors.Take(3))
            {
                Console.Error.WriteLine("  " + error);
            }
            return BoxBotConfig.Default;
        }
    }
}
