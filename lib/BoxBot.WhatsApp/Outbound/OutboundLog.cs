using Microsoft.Extensions.Logging;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// Log events of outbound WhatsApp messages (ids 500-519). They name recipients, part counts, message ids, HTTP
/// statuses and Graph error codes: never the text (it is private) and never the access token.
/// </summary>
internal static partial class OutboundLog
{
    [LoggerMessage(EventId = 500, EventName = "whatsapp-sent", Level = LogLevel.Information,
        Message = "WhatsApp message to {To} from {Caller}: {Parts} part(s) sent ({Ids})")]
    public static partial void Sent(ILogger logger, string to, string caller, int parts, string ids);

    [LoggerMessage(EventId = 501, EventName = "whatsapp-outbox", Level = LogLevel.Warning,
        Message = "NOT SENT (development outbox): WhatsApp message to {To} from {Caller}, {Parts} part(s), written to {Path}; {Reason}")]
    public static partial void NotSent(ILogger logger, string to, string caller, int parts, string path, string reason);

    [LoggerMessage(EventId = 502, EventName = "whatsapp-send-failed", Level = LogLevel.Warning,
        Message = "WhatsApp message to {To} from {Caller} failed: {Error}")]
    public static partial void Failed(ILogger logger, string to, string caller, string error);

    [LoggerMessage(EventId = 503, EventName = "whatsapp-recipient-refused", Level = LogLevel.Warning,
        Message = "WhatsApp message to {To} from {Caller} refused: not a registered user")]
    public static partial void Refused(ILogger logger, string to, string caller);

    [LoggerMessage(EventId = 504, EventName = "whatsapp-retry", Level = LogLevel.Warning,
        Message = "WhatsApp Graph API: {Problem}; try {Attempt} of {MaxAttempts} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string problem, int attempt, int maxAttempts, long delayMs);

    [LoggerMessage(EventId = 505, EventName = "whatsapp-record-failed", Level = LogLevel.Error,
        Message = "WhatsApp message {Id} to {To} was sent but could not be recorded (its receipts will not match)")]
    public static partial void RecordFailed(ILogger logger, Exception exception, string id, string to);
}
