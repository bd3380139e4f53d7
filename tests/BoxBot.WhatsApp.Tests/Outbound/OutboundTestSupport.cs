using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BoxBot.WhatsApp.Tests.Outbound;

/// <summary>Keeps every formatted log line (with its exception), so tests can check what was logged and what never was.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => [.. _lines];

    public string All => string.Join("\n", _lines.Select(l => l.Text));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : "\n" + exception)));
}

/// <summary>Stands in for the waits between tries: records each and returns at once.</summary>
internal sealed class RecordingDelay
{
    private readonly ConcurrentQueue<TimeSpan> _waits = new();

    public IReadOnlyList<TimeSpan> Waits => [.. _waits];

    public Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        _waits.Enqueue(delay);
        return Task.CompletedTask;
    }
}

/// <summary>A fresh folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("boxbot-whatsapp-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
