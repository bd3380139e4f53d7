using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Sdk.Tests;

/// <summary>Keeps every formatted log line (with its arguments) so tests can prove what is never logged.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToArray();
            }
        }
    }

    public string All => string.Join("\n", Lines);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = $"{eventId.Id} {formatter(state, exception)} {exception}";
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            line += " " + string.Join(" ", values.Select(v => $"{v.Key}={v.Value}"));
        }

        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
