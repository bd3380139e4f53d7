using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace BoxBot.Mesh.Internal;

/// <summary>The one place that turns <see cref="MeshOptions"/> into NATS client options.</summary>
internal static class NatsOptionsMapper
{
    public static NatsOpts Map(MeshOptions options, ILogger logger) => NatsOpts.Default with
    {
        Url = options.Url.AbsoluteUri,
        Name = options.Name,
        ConnectTimeout = options.ConnectTimeout,
        AuthOpts = NatsAuthOpts.Default with
        {
            Username = NullIfEmpty(options.User),
            Password = NullIfEmpty(options.Password),
            Token = NullIfEmpty(options.Token),
        },
        LoggerFactory = new SingleLoggerFactory(logger),
        // Fail fast on the first connect so a wrong URL or password is reported, not retried forever;
        // once connected, the NATS client keeps reconnecting (its default).
        RetryOnInitialConnect = false,
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
