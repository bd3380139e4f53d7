using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>
/// The egress proxy's log events (ids 320-329, after the SDK's 310-319). They carry the request target as the
/// client sent it, without its query string (where API keys travel), printable and capped; never headers or bodies.
/// </summary>
internal static partial class EgressLog
{
    [LoggerMessage(EventId = 320, EventName = "egress-refused", Level = LogLevel.Warning, Message = "refused {Status} {Method} {Target}: {Reason}")]
    public static partial void Refused(ILogger logger, int status, string method, string target, string reason);

    [LoggerMessage(EventId = 321, EventName = "egress-opened", Level = LogLevel.Information, Message = "{Method} {Host}:{Port} to {Address}")]
    public static partial void Opened(ILogger logger, string method, string host, int port, string address);

    [LoggerMessage(EventId = 322, EventName = "egress-closed", Level = LogLevel.Debug, Message = "{Host}:{Port} closed ({Reason}) after {Seconds:F1} s: {Up} bytes out, {Down} bytes back")]
    public static partial void Closed(ILogger logger, string host, int port, string reason, double seconds, long up, long down);

    [LoggerMessage(EventId = 323, EventName = "egress-skipped", Level = LogLevel.Warning, Message = "{Host} also resolves to addresses that are not allowed ({Addresses}); only the others are tried")]
    public static partial void Skipped(ILogger logger, string host, string addresses);

    [LoggerMessage(EventId = 324, EventName = "egress-accept-failed", Level = LogLevel.Warning, Message = "accept failed: {Error}")]
    public static partial void AcceptFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 325, EventName = "egress-client-gone", Level = LogLevel.Debug, Message = "connection ended early: {Error}")]
    public static partial void ClientGone(ILogger logger, string error);

    [LoggerMessage(EventId = 326, EventName = "egress-failed", Level = LogLevel.Error, Message = "connection failed unexpectedly")]
    public static partial void Failed(ILogger logger, Exception exception);
}
