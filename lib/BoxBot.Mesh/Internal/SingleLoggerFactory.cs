using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh.Internal;

/// <summary>
/// The NATS client wants an <see cref="ILoggerFactory"/>; the library is handed one <see cref="ILogger"/>
/// (only cmd/ configures sinks), so every NATS category writes to that logger.
/// </summary>
internal sealed class SingleLoggerFactory(ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("The mesh client logs to the logger it was given.");

    public void Dispose()
    {
    }
}
