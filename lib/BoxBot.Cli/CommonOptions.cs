using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.WhatsApp;

namespace BoxBot.Cli;

internal static class CommonOptions
{
    public const string JsonName = "--json";

    public static Option<bool> Json() => new(JsonName) { Description = "Print one JSON document instead of text (stable keys, for scripts)." };

    /// <summary>Whether the command being run was given <c>--json</c> (whichever command's own option it is).</summary>
    public static bool JsonRequested(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        return parsed.CommandResult.Command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == JsonName) is { } json && parsed.GetValue(json);
    }

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

    /// <summary>
    /// A WhatsApp number a person typed (<paramref name="name"/> is the option or argument, for the message): its digits,
    /// or the usage error every command gives for it. <paramref name="international"/>: a number to send to or from
    /// (7 to 15 digits, no leading 0), else any number the registry may hold (1 to 20 digits).
    /// </summary>
    public static (string? Digits, Failure? Failure) PhoneNumber(string text, string name, bool international = true)
    {
        var digits = international ? PhoneNumbers.NormalizeInternational(text) : PhoneNumbers.Normalize(text);
        return digits is not null ? (digits, null) : (null, new Failure(ExitCodes.Usage, Failures.Kinds.Usage,
            $"{name} '{text}' is not a phone number in international form: the country code first (\"+49 151 2345678\" or " +
            $"4915112345678), {(international ? PhoneNumbers.MinInternationalDigits : 1)} to " +
            $"{(international ? PhoneNumbers.MaxInternationalDigits : PhoneNumbers.MaxDigits)} digits{(international ? ", no leading 0" : "")}; " +
            "spaces, dashes, dots and parentheses are ignored"));
    }
}
