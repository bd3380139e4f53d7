using System.Text;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting;

/// <summary>
/// Writes one line per log entry to stderr with the sd-daemon(3) priority prefix
/// (<c>&lt;3&gt;</c> error … <c>&lt;7&gt;</c> debug), which journald turns into the entry's priority.
/// Exceptions are summarised on the same line (type and message); stack traces only at debug,
/// so a multi-line trace never splits into unrelated journal entries.
/// </summary>
public sealed class JournalLoggerProvider(TextWriter output, LogLevel minimum) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public JournalLoggerProvider(LogLevel minimum) : this(Console.Error, minimum)
    {
    }

    public LogLevel Minimum { get; } = minimum;

    public ILogger CreateLogger(string categoryName) => new JournalLogger(this, ShortCategory(categoryName));

    public void Dispose() => Flush();

    public void Flush()
    {
        lock (_gate)
        {
            output.Flush();
        }
    }

    internal static int Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    // "BoxBot.Ipc.JsonRpcServer" → "ipc.JsonRpcServer"; framework categories are kept whole.
    private static string ShortCategory(string category) =>
        category.StartsWith("BoxBot.", StringComparison.Ordinal)
            ? char.ToLowerInvariant(category[7]) + category[8..]
            : category;

    private void Write(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder(128);
        line.Append('<').Append(Priority(level)).Append('>').Append(category);
        if (eventId.Id != 0)
        {
            line.Append('[').Append(eventId.Id).Append(']');
        }
        line.Append(": ").Append(OneLine(message));
        if (exception is not null)
        {
            line.Append(" (").Append(exception.GetType().Name).Append(": ").Append(OneLine(exception.Message)).Append(')');
            if (Minimum <= LogLevel.Debug && exception.StackTrace is { } trace)
            {
                line.Append(" at ").Append(OneLine(trace));
            }
        }
        line.Append('\n');
        lock (_gate)
        {
            output.Write(line.ToString());
            output.Flush();
        }
    }

    private static string OneLine(string text) =>
        text.Contains('\n') || text.Contains('\r') ? text.Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ') : text;

    private sealed class JournalLogger(JournalLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(logLevel, category, eventId, formatter(state, exception), exception);
            }
        }
    }
}
