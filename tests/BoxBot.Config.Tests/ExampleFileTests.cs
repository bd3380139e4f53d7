using BoxBot.Config.Internal;
using BoxBot.Contracts;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace BoxBot.Config.Tests;

/// <summary>packaging/boxbot.example.toml is the documentation of every setting: it must stay complete and true.</summary>
public class ExampleFileTests
{
    private static string ExamplePath => Path.Combine(RepoRoot.Find(), "packaging", "boxbot.example.toml");

    [Test]
    public void The_example_file_loads_without_errors_and_equals_the_defaults()
    {
        var loaded = ConfigLoader.Load(ExamplePath);

        Assert.That(loaded.Config, Is.EqualTo(BoxBotConfig.Default));
    }

    [Test]
    public void Every_option_of_the_model_is_written_out_in_the_example_file_with_its_default_value()
    {
        // The key list comes from the file model, so a new property that is not documented fails here.
        var written = WrittenKeys(ExamplePath);

        foreach (var (section, keys) in ConfigSchema.Instance.Sections)
        {
            foreach (var (key, defaultValue) in keys)
            {
                var name = $"{section}.{key}";
                Assert.That(written.ContainsKey(name), Is.True, $"{name} is not written out in {ExamplePath}");
                Assert.That(Scalar(written[name]), Is.EqualTo(Scalar(defaultValue)), $"{name} in {ExamplePath} is not its default");
            }
        }

        Assert.That(written.Keys, Is.EquivalentTo(ConfigSchema.Instance.FullKeys));
    }

    [Test]
    public void Every_key_in_the_example_file_has_a_comment_right_above_it()
    {
        var lines = File.ReadAllLines(ExamplePath);
        var doc = SyntaxParser.Parse(File.ReadAllText(ExamplePath), ExamplePath, validate: true);

        foreach (var table in doc.Tables)
        {
            foreach (var kv in table.Items)
            {
                var line = kv.Span.Start.Line;
                Assert.That(line > 0 && lines[line - 1].TrimStart().StartsWith('#'), Is.True,
                    $"{ExamplePath}:{line + 1}: {kv.Key} has no comment above it");
            }
        }
    }

    [Test]
    public void The_example_file_header_lists_every_credential_and_keeps_secrets_out()
    {
        var text = File.ReadAllText(ExamplePath);

        foreach (var credential in Credentials.All)
        {
            Assert.That(text, Does.Contain(credential.Name));
        }

        Assert.That(text, Does.Contain("Secrets never go in this file"));
    }

    [Test]
    public void Every_daemon_has_a_config_section_with_a_socket_group()
    {
        foreach (var daemon in Daemons.All)
        {
            Assert.That(ConfigSchema.Instance.Sections.ContainsKey(daemon.Name), Is.True, daemon.Name);
            Assert.That(ConfigSchema.Instance.Sections[daemon.Name].ContainsKey("socket_group"), Is.True, daemon.Name);
        }
    }

    private static Dictionary<string, ValueSyntax> WrittenKeys(string path)
    {
        var doc = SyntaxParser.Parse(File.ReadAllText(path), path, validate: true);
        Assert.That(doc.HasErrors, Is.False);
        var keys = new Dictionary<string, ValueSyntax>();
        foreach (var table in doc.Tables)
        {
            foreach (var kv in table.Items)
            {
                // A nested section such as [agent.llm] is written as its own table, like the model's schema has it.
                keys.Add($"{string.Join('.', TomlSyntax.KeyParts(table.Name))}.{TomlSyntax.KeyParts(kv.Key).Single()}", kv.Value!);
            }
        }

        return keys;
    }

    private static object? Scalar(ValueSyntax value) => value switch
    {
        StringValueSyntax s => s.Value,
        IntegerValueSyntax i => i.Value,
        BooleanValueSyntax b => b.Value,
        FloatValueSyntax f => f.Value,
        // Lists: compared by their items' text.
        ArraySyntax a => string.Join(",", a.Items.Select(i => Scalar(i.Value!))),
        _ => throw new AssertionException($"unexpected value kind {value.GetType().Name}"),
    };
}
