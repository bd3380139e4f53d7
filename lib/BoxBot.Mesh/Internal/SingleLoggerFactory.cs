using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh.Internal;

/// <summary>
/// The NATS client wants an <see cref="ILoggerFactory"/>; the library is handed one <see cref="ILogger"/>
/// (only cmd/ configures sinks), so every NATS category writes to that logger.
/// </summary>
internal sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
{
    // The NATS client narrates every connect at Information (its server's whole INFO line among it); the mesh client logs
    // what matters itself, so only the client's warnings and errors come through.
    private readonly ILogger _quiet = new AtLeast(logger, LogLevel.Warning);

    public ILogger CreateLogger(string categoryName) => _quiet;

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("The mesh client logs to the logger it was given.");

    public void Dispose()
    {
    }

    private sealed class AtLeast(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
