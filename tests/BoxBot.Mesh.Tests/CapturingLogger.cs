using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh.Tests;

/// <summary>Keeps every log line (all levels) so tests can look for events and for leaked secrets.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Text)> _entries = new();

    public IReadOnlyList<(EventId Id, LogLevel Level, string Text)> Entries => [.. _entries];

    public string AllText => string.Join('\n', _entries.Select(e => e.Text));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception);
        if (exception is not null)
        {
            text += " | " + exception;
        }

        _entries.Enqueue((eventId, logLevel, text));
    }

    /// <summary>Waits until a line with <paramref name="id"/> appears; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForAsync(EventId id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_entries.Any(e => e.Id.Id == id.Id))
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }
}
