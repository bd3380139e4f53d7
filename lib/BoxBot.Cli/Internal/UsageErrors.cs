using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace BoxBot.Cli.Internal;

/// <summary>
/// What the parser found wrong with the command line, said once and plainly: an unknown command with the nearest
/// real one, a command group without its command with the list of them, a value that is not a number with the option's
/// name. System.CommandLine's own wording is kept for the rest. Always exit code 2.
/// </summary>
internal static partial class UsageErrors
{
    public static int Report(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        foreach (var line in Lines(parsed))
        {
            Console.Error.WriteLine(line);
        }
        if (CommonOptions.JsonRequested(parsed))
        {
            Console.Out.WriteLine(Failures.JsonDocumentFor(new Failure(ExitCodes.Usage, Failures.Kinds.Usage, Lines(parsed)[0]["boxbot: ".Length..])));
        }
        return ExitCodes.Usage;
    }

    /// <summary>The lines printed for a command line that did not parse, the last one pointing at the help that answers it.</summary>
    internal static List<string> Lines(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var path = CommandPath(parsed.CommandResult);
        var lines = new List<string>();
        var isGroup = command.Subcommands.Count > 0 && command.Action is null;
        var unknown = parsed.UnmatchedTokens.FirstOrDefault();
        if (isGroup && unknown is not null && !unknown.StartsWith('-'))
        {
            var nearest = Nearest(unknown, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
            lines.Add($"boxbot: unknown command '{(path.Length == 0 ? "" : path + " ")}{unknown}'" +
                      (nearest is null ? "" : $" (did you mean '{(path.Length == 0 ? "" : path + " ")}{nearest}'?)"));
        }
        else if (isGroup && unknown is null && parsed.Errors.All(e => IsMissingCommand(e)))
        {
            lines.Add($"boxbot: '{(path.Length == 0 ? "boxbot" : "boxbot " + path)}' needs a command: " +
                      string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name)));
        }
        else
        {
            foreach (var error in parsed.Errors.Where(e => !IsMissingCommand(e)))
            {
                lines.Add("boxbot: " + (path.Length == 0 ? "" : path + ": ") + Reword(error.Message));
            }
        }
        lines.Add($"Run 'boxbot {(path.Length == 0 ? "" : path + " ")}--help' for usage.");
        return lines;
    }

    /// <summary>"Required command was not provided": said better by the list of commands, or noise beside an unknown one.</summary>
    private static bool IsMissingCommand(ParseError error) =>
        error.SymbolResult is CommandResult { Command: { Action: null } c } && c.Subcommands.Count > 0;

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c && c.Parent is not null; r = c.Parent)
        {
            names.Insert(0, c.Command.Name);
        }
        return string.Join(' ', names);
    }

    /// <summary>System.CommandLine names .NET types ("System.Nullable`1[System.Int32]"); a person wants to hear "a whole number".</summary>
    internal static string Reword(string message)
    {
        if (Unrecognized().Match(message) is { Success: true } unrecognized)
        {
            var token = unrecognized.Groups["token"].Value;
            return token.StartsWith('-') ? $"unknown option '{token}'" : $"unexpected argument '{token}'";
        }
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }
        var type = match.Groups["type"].Value;
        var wanted = type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Decimal", StringComparison.Ordinal) ? "a number"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : "a value of the right kind";
        return $"{match.Groups["option"].Value}: '{match.Groups["value"].Value}' is not {wanted}";
    }

    /// <summary>The candidate closest to <paramref name="word"/> by edit distance, if it is close enough to be a typo.</summary>
    internal static string? Nearest(string word, IEnumerable<string> candidates)
    {
        var best = candidates.Select(c => (Name: c, Distance: Distance(word, c))).OrderBy(c => c.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, Math.Min(2, best.Name.Length / 3)) ? best.Name
            : candidates.FirstOrDefault(c => c.StartsWith(word, StringComparison.Ordinal) && word.Length >= 3);
    }

    /// <summary>Edit distance where swapping two neighbouring letters ("statsu") is one slip, not two (optimal string alignment).</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }

    [GeneratedRegex(@"^Unrecognized command or argument '(?<token>.*)'\.?$")]
    private static partial Regex Unrecognized();

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$")]
    private static partial Regex CannotParse();
}
