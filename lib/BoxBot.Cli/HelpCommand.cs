using System.CommandLine;
using BoxBot.Cli.Internal;

namespace BoxBot.Cli;

internal static class HelpCommand
{
    public static Command Create(RootCommand root)
    {
        var words = new Argument<string[]>("COMMAND")
        {
            Description = "The command to explain, as you would type it (`boxbot help users list`). Nothing: the list of commands.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var help = new Command("help", "Show the help of a command: `boxbot help users list` is `boxbot users list --help`.") { words };
        help.SetAction(parse =>
        {
            var path = parse.GetValue(words) ?? [];
            // Walk the tree by name, so `help` never runs a command: an unknown word is a usage error like any other.
            Command command = root;
            foreach (var word in path)
            {
                var next = command.Subcommands.FirstOrDefault(c => c.Name == word);
                if (next is null)
                {
                    var known = string.Join(' ', path.TakeWhile(w => w != word));
                    var nearest = UsageErrors.Nearest(word, command.Subcommands.Select(c => c.Name));
                    return Failures.Usage($"unknown command '{(known.Length == 0 ? "" : known + " ")}{word}'" +
                                          (nearest is null ? "" : $" (did you mean '{(known.Length == 0 ? "" : known + " ")}{nearest}'?)") +
                                          $"; `boxbot {(known.Length == 0 ? "" : known + " ")}--help` lists the commands");
                }
                command = next;
            }
            return root.Parse([.. path, "--help"]).Invoke();
        });
        return help;
    }
}
