using System.Text.RegularExpressions;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// What keeps the text a newcomer reads first equal to the build: the README's tables against every executable's and
/// every command's own `--help` (the published binaries, run for real), docs/cli.md against the command tree, the
/// layout table in docs/cli.md against <see cref="InstallLayout"/>, and each library README's reference lines against
/// the project files. A failure prints what the text should say.
/// </summary>
public partial class DocsAgreeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "README.md"));
    private static readonly string CliDoc = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "docs", "cli.md"));

    private static (int ExitCode, string Stdout, string Stderr) Help(string exe, params string[] args) =>
        TestEnv.Run(TestEnv.Exe(exe), [.. args, "--help"]);

    /// <summary>The Description block of System.CommandLine's help, one string per line, without the indent.</summary>
    internal static List<string> DescriptionLines(string help)
    {
        var lines = help.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var start = Array.IndexOf(lines, "Description:");
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "no Description: in\n" + help);
        return [.. lines.Skip(start + 1).TakeWhile(l => l.Length == 0 || l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim())
            .Reverse().SkipWhile(l => l.Length == 0).Reverse()];
    }

    /// <summary>The names listed under Commands: (the first word of each entry).</summary>
    internal static List<string> CommandNames(string help)
    {
        var lines = help.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var start = Array.IndexOf(lines, "Commands:");
        return start < 0 ? [] : [.. lines.Skip(start + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))
            .Where(l => !l.StartsWith("   ", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[0])];
    }

    /// <summary>The first sentence of a text, without its period ("e.g." aside, none of ours has an inner ". ").</summary>
    internal static string FirstSentence(string text)
    {
        var end = text.IndexOf(". ", StringComparison.Ordinal);
        var sentence = end < 0 ? text : text[..end];
        return sentence.TrimEnd('.');
    }

    /// <summary>The rows of the markdown table whose header row starts with <paramref name="firstHeader"/>: cells, trimmed.</summary>
    internal static List<string[]> Table(string markdown, string firstHeader)
    {
        var lines = markdown.Split('\n');
        var header = Array.FindIndex(lines, l => l.StartsWith($"| {firstHeader} |", StringComparison.Ordinal));
        Assert.That(header, Is.GreaterThanOrEqualTo(0), $"no table with a '{firstHeader}' column");
        return [.. lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim().Trim('|').Split(" | ").Select(c => c.Trim()).ToArray())];
    }

    /// <summary>Every command path of the CLI, found by walking `--help` from the top (["users", "list"], ...).</summary>
    private static List<string[]> CommandTree()
    {
        var all = new List<string[]>();
        var pending = new Queue<string[]>([[]]);
        while (pending.Count > 0)
        {
            var path = pending.Dequeue();
            var (code, stdout, stderr) = Help("boxbot", path);
            Assert.That(code, Is.EqualTo(0), $"boxbot {string.Join(' ', path)} --help: {stderr}");
            if (path.Length > 0)
            {
                all.Add(path);
            }
            foreach (var name in CommandNames(stdout))
            {
                pending.Enqueue([.. path, name]);
            }
        }
        return all;
    }

    [Test]
    public void The_readme_says_what_each_executable_does_in_the_words_of_its_own_help()
    {
        var rows = Table(Readme, "executable");
        var executables = Daemons.All.Select(d => d.Executable).Append("boxbot").ToList();

        Assert.That(rows.Select(r => r[0].Trim('`')), Is.EquivalentTo(executables));
        foreach (var row in rows)
        {
            var exe = row[0].Trim('`');
            var (code, stdout, stderr) = Help(exe);
            Assert.That(code, Is.EqualTo(0), stderr);
            var first = DescriptionLines(stdout)[0];
            Assert.That(first, Does.StartWith(exe + ": "), exe);
            Assert.That(row[1], Is.EqualTo(first[(exe.Length + 2)..].TrimEnd('.')), $"README.md's row for {exe} should say what `{exe} --help` says");
        }
    }

    [Test]
    public void The_readme_lists_every_command_with_the_first_sentence_of_its_help()
    {
        var rows = Table(Readme, "command");
        var (_, rootHelp, _) = Help("boxbot");
        var commands = CommandNames(rootHelp);

        Assert.That(rows.Select(r => r[0]), Is.EqualTo(commands.Select(c => $"`boxbot {c}`")), "README.md's command table, in `boxbot --help`'s order");
        foreach (var command in commands)
        {
            var (_, stdout, _) = Help("boxbot", command);
            var expected = FirstSentence(DescriptionLines(stdout)[0]);
            Assert.That(rows.Single(r => r[0] == $"`boxbot {command}`")[1], Is.EqualTo(expected), $"README.md's row for boxbot {command}");
        }
    }

    [Test]
    public void Docs_cli_md_describes_every_command_and_no_command_that_does_not_exist()
    {
        var tree = CommandTree().Select(p => string.Join(' ', p)).ToHashSet();
        // A command is documented by a bullet or heading that starts with it: "- `boxbot users remove NUMBER`".
        var documented = DocumentedCommand().Matches(CliDoc).Select(m => m.Groups["words"].Value).ToList();
        var leaves = tree.Where(c => !tree.Any(other => other.StartsWith(c + " ", StringComparison.Ordinal))).ToList();

        foreach (var leaf in leaves)
        {
            Assert.That(documented.Any(d => d == leaf || d.StartsWith(leaf + " ", StringComparison.Ordinal)), Is.True,
                $"docs/cli.md has no entry for `boxbot {leaf}`");
        }
        foreach (var entry in documented)
        {
            var words = entry.Split(' ').TakeWhile(w => Regex.IsMatch(w, "^[a-z][a-z-]*$")).ToList();
            Assert.That(Enumerable.Range(1, words.Count).Any(n => tree.Contains(string.Join(' ', words.Take(n)))), Is.True,
                $"docs/cli.md documents `boxbot {entry}`, which is not a command");
        }
    }

    [Test]
    public void The_installed_layout_table_in_docs_cli_md_is_the_one_doctor_checks()
    {
        var expected = LayoutTable();

        Assert.That(CliDoc, Does.Contain(expected), "docs/cli.md's layout table should be exactly:\n" + expected);
    }

    /// <summary>The layout doctor checks, as the markdown table docs/cli.md shows.</summary>
    internal static string LayoutTable()
    {
        var rows = InstallLayout.Entries(["NAME"]).Select(e =>
            $"| `{e.Path}`{(e.Path.EndsWith("/NAME", StringComparison.Ordinal) ? " (each credential)" : "")} | {Kind(e.Kind)} | {e.OwnerText} | " +
            $"{e.ModeText} | {(e.Required ? "yes" : "no")} | {e.Holds} |");
        return "| path | kind | owner:group | mode | required | holds |\n|---|---|---|---|---|---|\n" + string.Join('\n', rows) + "\n";
    }

    private static string Kind(LayoutKind kind) => kind switch
    {
        LayoutKind.Directory => "dir",
        LayoutKind.File => "file",
        _ => "socket",
    };

    [Test]
    public void Each_library_readme_names_the_projects_it_references_and_those_that_reference_it()
    {
        var projects = Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "lib"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "cmd"), "*.csproj", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "bench"), "*.csproj", SearchOption.AllDirectories))
            .Where(p => !p.Contains("/obj/", StringComparison.Ordinal))
            .ToDictionary(p => Label(p), p => References(p));
        foreach (var readme in Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "lib"), "README.md", SearchOption.AllDirectories)
                     .Where(p => Path.GetFileName(Path.GetDirectoryName(p)!).StartsWith("BoxBot.", StringComparison.Ordinal)))
        {
            var name = Path.GetFileName(Path.GetDirectoryName(readme)!);
            var text = File.ReadAllLines(readme);
            var references = Named(text, "References:");
            var referencedBy = Named(text, "Referenced by:");
            Assert.That(references, Is.EquivalentTo(projects[name].Where(r => r.StartsWith("BoxBot.", StringComparison.Ordinal))),
                $"{readme}: the References: line");
            Assert.That(referencedBy, Is.EquivalentTo(projects.Where(p => p.Value.Contains(name)).Select(p => p.Key)),
                $"{readme}: the Referenced by: line");
        }
    }

    private static string Label(string csproj)
    {
        var name = Path.GetFileNameWithoutExtension(csproj);
        var top = Path.GetRelativePath(TestEnv.RepoRoot, csproj).Split('/')[0];
        return top == "lib" ? name : $"{top}/{name}";
    }

    private static List<string> References(string csproj) =>
        [.. ProjectReference().Matches(File.ReadAllText(csproj)).Select(m => m.Groups["name"].Value)];

    /// <summary>The project names on the README line that starts with <paramref name="prefix"/>; "nothing" is none.</summary>
    private static List<string> Named(string[] lines, string prefix)
    {
        var line = lines.SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"no line starting with '{prefix}'");
        return [.. ProjectName().Matches(line![prefix.Length..]).Select(m => m.Value.TrimEnd('.'))];
    }

    [GeneratedRegex(@"^(?:- |#+ )`boxbot (?<words>[^`]+)`", RegexOptions.Multiline)]
    private static partial Regex DocumentedCommand();

    [GeneratedRegex(@"Include=""[^""]*/(?<name>[^/""]+)\.csproj""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"(?:BoxBot\.[A-Za-z.]*[A-Za-z]|(?:cmd|bench)/[A-Za-z.-]*[A-Za-z])")]
    private static partial Regex ProjectName();
}
