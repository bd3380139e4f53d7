namespace BoxBot.Config;

/// <summary>One problem in a configuration file.</summary>
/// <param name="File">The file (or source name) the problem is in.</param>
/// <param name="Line">1-based line; 0 when the problem is the file as a whole.</param>
/// <param name="Column">1-based column; 0 when the problem is the file as a whole.</param>
/// <param name="Key">The full dotted key (<c>webhook.port</c>); <c>""</c> for syntax errors and whole-file problems.</param>
/// <param name="Message">What is wrong and, where it helps, what to write instead.</param>
public sealed record ConfigError(string File, int Line, int Column, string Key, string Message)
{
    /// <summary><c>file:line:col: key: message</c>, leaving out the parts that are not known.</summary>
    public override string ToString()
    {
        var where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        return Key.Length > 0 ? $"{where}: {Key}: {Message}" : $"{where}: {Message}";
    }
}

/// <summary>The configuration could not be loaded; <see cref="Errors"/> lists every problem found, not just the first.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(string.Join('\n', errors ?? throw new ArgumentNullException(nameof(errors))))
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("a ConfigException needs at least one error", nameof(errors));
        }

        Errors = errors;
    }

    public ConfigException(ConfigError error) : this([error]) { }

    public IReadOnlyList<ConfigError> Errors { get; }
}
