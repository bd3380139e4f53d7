using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Sdk.Internal;

/// <summary>
/// The SDK's log events (ids 310-319, next to the sandbox's 300-303). They carry method names, outcomes
/// and counts: never params, secret names or values, paths or anything else the job chose.
/// </summary>
internal static partial class SdkLog
{
    [LoggerMessage(EventId = 310, EventName = "sdk-call", Level = LogLevel.Information, Message = "SDK call {Method}: {Outcome}")]
    public static partial void Call(ILogger logger, string method, string outcome);

    [LoggerMessage(EventId = 311, EventName = "sdk-host-failed", Level = LogLevel.Warning, Message = "SDK call {Method} failed in the host ({ExceptionType})")]
    public static partial void HostFailed(ILogger logger, string method, string exceptionType);

    [LoggerMessage(EventId = 312, EventName = "sdk-line-too-long", Level = LogLevel.Warning, Message = "SDK request line longer than {MaxLineBytes} bytes; closing the channel")]
    public static partial void LineTooLong(ILogger logger, int maxLineBytes);

    [LoggerMessage(EventId = 313, EventName = "sdk-too-many-calls", Level = LogLevel.Warning, Message = "SDK call limit of {MaxCalls} reached; closing the channel")]
    public static partial void TooManyCalls(ILogger logger, int maxCalls);

    [LoggerMessage(EventId = 314, EventName = "sdk-channel-ended", Level = LogLevel.Debug, Message = "SDK channel ended ({Reason}) after {Calls} calls")]
    public static partial void ChannelEnded(ILogger logger, string reason, int calls);

    [LoggerMessage(EventId = 315, EventName = "sdk-attach-refused", Level = LogLevel.Information, Message = "SDK output.attach refused: {Reason}")]
    public static partial void AttachRefused(ILogger logger, string reason);
}
