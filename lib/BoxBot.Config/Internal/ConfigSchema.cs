using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace BoxBot.Config.Internal;

/// <summary>
/// The known sections and keys, with the TOML type and default of each, derived from the file model by
/// serializing a default <see cref="ConfigFile"/> with the same source-generated context and parsing it
/// back. There is no second, hand-written key list to keep in step. A nested table such as <c>[agent.llm]</c> is a
/// section of its own, named with its dotted path.
/// </summary>
internal sealed class ConfigSchema
{
    private ConfigSchema(IReadOnlyDictionary<string, IReadOnlyDictionary<string, ValueSyntax>> sections) =>
        Sections = sections;

    public static ConfigSchema Instance { get; } = Build();

    /// <summary>Section name (<c>agent</c>, <c>agent.llm</c>) → key → the default value as TOML syntax (its type is the expected type).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, ValueSyntax>> Sections { get; }

    /// <summary>Every key as <c>section.key</c>, in model order.</summary>
    public IEnumerable<string> FullKeys =>
        Sections.SelectMany(s => s.Value.Keys.Select(k => $"{s.Key}.{k}"));

    public string KnownSections => string.Join(", ", Sections.Keys.Order(StringComparer.Ordinal));

    /// <summary>The keys of <paramref name="section"/> for a message, and the sections nested in it.</summary>
    public string KnownKeys(string section)
    {
        var keys = string.Join(", ", Sections[section].Keys.Order(StringComparer.Ordinal));
        var nested = Sections.Keys.Where(s => s.StartsWith(section + ".", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        return nested.Count == 0 ? keys : $"{keys}; and the section{(nested.Count > 1 ? "s" : "")} {string.Join(", ", nested.Select(n => $"[{n}]"))}";
    }

    /// <summary>Whether <c>section.key</c> exists; keys never hold a dot, so the last dot splits the section from the key.</summary>
    public bool Contains(string fullKey)
    {
        var dot = fullKey.LastIndexOf('.');
        return dot > 0
            && Sections.TryGetValue(fullKey[..dot], out var keys)
            && keys.ContainsKey(fullKey[(dot + 1)..]);
    }

    /// <summary>
    /// The longest known section that <paramref name="path"/> (the parts of a table header or a dotted key) starts
    /// with, and how many parts it spans; null when even the first part is not a section.
    /// </summary>
    public (string Name, int Depth)? SectionOf(IReadOnlyList<string> path)
    {
        for (var depth = path.Count; depth >= 1; depth--)
        {
            // A quoted part holding a dot (["agent.llm"]) is one name, not a path: it matches no section.
            if (path.Take(depth).Any(p => p.Contains('.', StringComparison.Ordinal)))
            {
                continue;
            }

            var name = string.Join('.', path.Take(depth));
            if (Sections.ContainsKey(name))
            {
                return (name, depth);
            }
        }

        return null;
    }

    private static ConfigSchema Build()
    {
        var text = TomlSerializer.Serialize(new ConfigFile(), ConfigFileContext.Default.ConfigFile);
        var doc = SyntaxParser.Parse(text, "<config model>", validate: true);
        if (doc.HasErrors || doc.KeyValues.ChildrenCount > 0)
        {
            throw new InvalidOperationException($"the config model did not serialize to plain sections:\n{text}");
        }

        var sections = new Dictionary<string, IReadOnlyDictionary<string, ValueSyntax>>(StringComparer.Ordinal);
        foreach (var table in doc.Tables)
        {
            var keys = new Dictionary<string, ValueSyntax>(StringComparer.Ordinal);
            foreach (var kv in table.Items)
            {
                keys.Add(TomlSyntax.KeyParts(kv.Key).Single(), kv.Value!);
            }

            sections.Add(string.Join('.', TomlSyntax.KeyParts(table.Name)), keys);
        }

        return new ConfigSchema(sections);
    }
}

/// <summary>Small helpers over Tomlyn's syntax tree.</summary>
internal static class TomlSyntax
{
    /// <summary>The parts of a (possibly dotted, possibly quoted) key: <c>a."b.c".d</c> → a, b.c, d.</summary>
    public static string[] KeyParts(KeySyntax? key)
    {
        if (key is null)
        {
            return [""];
        }

        var parts = new List<string> { Part(key.Key) };
        foreach (var dotted in key.DotKeys)
        {
            parts.Add(Part(dotted.Key));
        }

        return [.. parts];
    }

    /// <summary>"a string", "an integer", ... for messages.</summary>
    public static string Kind(ValueSyntax? value) => value switch
    {
        StringValueSyntax => "a string",
        IntegerValueSyntax => "an integer",
        FloatValueSyntax => "a float",
        BooleanValueSyntax => "a boolean",
        DateTimeValueSyntax => "a date-time",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        _ => "a value",
    };

    /// <summary>The 1-based line and column of a node.</summary>
    public static (int Line, int Column) Position(SyntaxNode node) =>
        (node.Span.Start.Line + 1, node.Span.Start.Column + 1);

    private static string Part(BareKeyOrStringValueSyntax? part) => part switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => "",
    };
}
