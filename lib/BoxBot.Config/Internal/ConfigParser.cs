using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace BoxBot.Config.Internal;

/// <summary>
/// Turns TOML text into a <see cref="BoxBotConfig"/>, collecting every error. Tomlyn's deserializer
/// ignores unknown keys and stops at the first bad type, so the syntax tree is walked first against
/// <see cref="ConfigSchema"/> (unknown sections and keys, types, and where each value sits). Every node
/// found wrong is cut from the tree, the rest is deserialized, and <see cref="ConfigBinder"/> checks the
/// values: a wrong type in one place does not hide an out-of-range value in another.
/// </summary>
internal sealed class ConfigParser
{
    private readonly string _source;
    private readonly ConfigSchema _schema = ConfigSchema.Instance;
    private readonly List<ConfigError> _errors = [];
    private readonly Dictionary<string, (int Line, int Column)> _valueAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedSections = new(StringComparer.Ordinal);
    private readonly List<Action> _cuts = [];

    private ConfigParser(string source) => _source = source;

    public static BoxBotConfig Parse(string text, string source)
    {
        var doc = SyntaxParser.Parse(text, source, validate: true);
        if (doc.HasErrors)
        {
            // A broken tree says little about keys; report what the parser found (it keeps going after an error).
            throw new ConfigException([.. doc.Diagnostics
                .Where(d => d.Kind == DiagnosticMessageKind.Error)
                .Select(d => new ConfigError(source, d.Span.Start.Line + 1, d.Span.Start.Column + 1, "", d.Message))]);
        }

        var parser = new ConfigParser(source);
        parser.Walk(doc);
        if (parser._cuts.Count > 0)
        {
            parser._cuts.ForEach(cut => cut());
            text = doc.ToString(); // the tree is lossless: this is the file minus the nodes found wrong
        }

        var config = parser.Bind(text);
        if (parser._errors.Count > 0 || config is null)
        {
            throw new ConfigException([.. parser._errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]);
        }

        return config;
    }

    private BoxBotConfig? Bind(string text)
    {
        ConfigFile file;
        try
        {
            file = TomlSerializer.Deserialize(text, ConfigFileContext.Default.ConfigFile) ?? new ConfigFile();
        }
        catch (TomlException ex)
        {
            // Not expected once the walk passed; kept so that a Tomlyn surprise still names a place.
            var at = (Line: ex.Line ?? 0, Column: ex.Column ?? 0);
            var key = _valueAt.FirstOrDefault(kv => kv.Value == at).Key ?? "";
            _errors.Add(new ConfigError(_source, at.Line, at.Column, key, Reason(ex.Message)));
            return null;
        }

        return new ConfigBinder(_source, _schema, _valueAt, _errors).Bind(file);
    }

    private void Walk(DocumentSyntax doc)
    {
        foreach (var kv in doc.KeyValues)
        {
            CheckKeyValue([], kv, () => doc.KeyValues.RemoveChild(kv));
        }

        foreach (var table in doc.Tables)
        {
            CheckTable(table, () => doc.Tables.RemoveChild(table));
        }
    }

    private void CheckTable(TableSyntaxBase table, Action cut)
    {
        var path = TomlSyntax.KeyParts(table.Name);
        var at = TomlSyntax.Position(table);
        if (_schema.SectionOf(path) is not var (section, depth))
        {
            UnknownSection(path[0], at, asTable: true, cut);
        }
        else if (depth < path.Length)
        {
            CheckKey(section, path[depth..], value: null, at, cut);
        }
        else if (table is TableArraySyntax)
        {
            Error(at, section, $"must be a single table [{section}], not an array of tables [[{section}]]", cut);
        }
        else
        {
            foreach (var kv in table.Items)
            {
                CheckKeyValue(path, kv, () => table.Items.RemoveChild(kv));
            }
        }
    }

    /// <summary><paramref name="cut"/> removes the node from the tree if it is found wrong.</summary>
    private void CheckKeyValue(string[] prefix, KeyValueSyntax kv, Action cut)
    {
        string[] path = [.. prefix, .. TomlSyntax.KeyParts(kv.Key)];
        var keyAt = TomlSyntax.Position(kv);
        if (_schema.SectionOf(path) is not var (section, depth))
        {
            UnknownSection(path[0], keyAt, asTable: path.Length > 1 || kv.Value is InlineTableSyntax, cut);
        }
        else if (depth < path.Length)
        {
            CheckKey(section, path[depth..], kv.Value, keyAt, cut);
        }
        else if (kv.Value is InlineTableSyntax inline)
        {
            foreach (var item in inline.Items)
            {
                if (item.KeyValue is { } inner)
                {
                    // Cutting one item out of an inline table could leave a stray comma; cut the whole table.
                    CheckKeyValue(path, inner, cut);
                }
            }
        }
        else
        {
            Error(keyAt, section, $"must be a table [{section}], not {TomlSyntax.Kind(kv.Value)}", cut);
        }
    }

    /// <summary>
    /// A key (<paramref name="rest"/>[0]) inside a known section; more parts after it mean the key is used as a table.
    /// <paramref name="value"/> is null when it is used as a table header.
    /// </summary>
    private void CheckKey(string section, string[] rest, ValueSyntax? value, (int, int) keyAt, Action cut)
    {
        var name = $"{section}.{rest[0]}";
        if (!_schema.Sections[section].TryGetValue(rest[0], out var expected))
        {
            Error(keyAt, name, $"unknown key (known keys in [{section}]: {_schema.KnownKeys(section)})", cut);
        }
        else if (rest.Length > 1 || value is null)
        {
            Error(keyAt, name, $"expected {TomlSyntax.Kind(expected)}, not a table", cut);
        }
        else if (value.GetType() != expected.GetType() && !(expected is FloatValueSyntax && value is IntegerValueSyntax))
        {
            // An integer where a float is expected is fine: "daily_budget_usd = 5" means 5.0.
            Error(TomlSyntax.Position(value), name, $"expected {TomlSyntax.Kind(expected)}, not {TomlSyntax.Kind(value)}", cut);
        }
        else
        {
            _valueAt[name] = TomlSyntax.Position(value);
        }
    }

    private void UnknownSection(string name, (int Line, int Column) at, bool asTable, Action cut)
    {
        // One report per name: [foo] and foo.x = 1 are the same mistake.
        if (!_reportedSections.Add(name))
        {
            _cuts.Add(cut);
            return;
        }

        Error(at, name, asTable
            ? $"unknown section (known sections: {_schema.KnownSections})"
            : $"unknown key (every key belongs in one of the sections {_schema.KnownSections})", cut);
    }

    private void Error((int Line, int Column) at, string key, string message, Action cut)
    {
        _errors.Add(new ConfigError(_source, at.Line, at.Column, key, message));
        _cuts.Add(cut);
    }

    // Tomlyn nests "(l,c) : error : ..." prefixes; the position is reported separately.
    private static string Reason(string message)
    {
        const string Marker = " : error : ";
        var i = message.LastIndexOf(Marker, StringComparison.Ordinal);
        return (i >= 0 ? message[(i + Marker.Length)..] : message).Trim();
    }
}
