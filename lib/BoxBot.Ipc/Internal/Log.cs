using Microsoft.Extensions.Logging;

namespace BoxBot.Ipc.Internal;

/// <summary>
/// Every message the library logs. Params and results are never logged: they may carry secrets.
/// Method names are logged as received, so a hostile client could send a junk name — structured
/// logging keeps it a field value, not a line of its own.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(IpcLogEvents.Listening, LogLevel.Information, "Listening on {SocketPath} (mode {Mode}, group {Group})")]
    public static partial void Listening(ILogger logger, string socketPath, string mode, string group);

    [LoggerMessage(IpcLogEvents.StaleSocketRemoved, LogLevel.Information, "Removed stale socket {SocketPath} (nobody was listening on it)")]
    public static partial void StaleSocketRemoved(ILogger logger, string socketPath);

    [LoggerMessage(IpcLogEvents.StoppedAccepting, LogLevel.Information, "Stopped accepting on {SocketPath}; {ActiveRequests} requests in flight")]
    public static partial void StoppedAccepting(ILogger logger, string socketPath, int activeRequests);

    [LoggerMessage(IpcLogEvents.AcceptFailed, LogLevel.Error, "Accept on {SocketPath} failed; retrying")]
    public static partial void AcceptFailed(ILogger logger, string socketPath, Exception exception);

    [LoggerMessage(IpcLogEvents.DrainTimedOut, LogLevel.Warning, "Drain of {SocketPath} ran out of its {Budget} budget; cancelling {ActiveRequests} requests")]
    public static partial void DrainTimedOut(ILogger logger, string socketPath, TimeSpan budget, int activeRequests);

    [LoggerMessage(IpcLogEvents.ConnectionOpened, LogLevel.Debug, "Connection from pid {Pid} uid {Uid} gid {Gid} on {SocketPath}")]
    public static partial void ConnectionOpened(ILogger logger, int pid, uint uid, uint gid, string socketPath);

    [LoggerMessage(IpcLogEvents.ConnectionClosed, LogLevel.Debug, "Connection from pid {Pid} uid {Uid} gid {Gid} closed ({Reason})")]
    public static partial void ConnectionClosed(ILogger logger, int pid, uint uid, uint gid, string reason);

    [LoggerMessage(IpcLogEvents.ConnectionFailed, LogLevel.Error, "Closed connection from pid {Pid} uid {Uid} gid {Gid} after an unexpected error")]
    public static partial void ConnectionFailed(ILogger logger, int pid, uint uid, uint gid, Exception exception);

    [LoggerMessage(IpcLogEvents.ConnectionRejectedBusy, LogLevel.Warning, "Rejected connection from pid {Pid} uid {Uid} gid {Gid}: already {MaxConnections} connections on {SocketPath}")]
    public static partial void ConnectionRejectedBusy(ILogger logger, int pid, uint uid, uint gid, int maxConnections, string socketPath);

    [LoggerMessage(IpcLogEvents.PeerCredentialsFailed, LogLevel.Error, "Closed a connection on {SocketPath}: its peer credentials could not be read ({Error})")]
    public static partial void PeerCredentialsFailed(ILogger logger, string socketPath, string error);

    [LoggerMessage(IpcLogEvents.FrameTooLarge, LogLevel.Warning, "Closed connection from pid {Pid} uid {Uid} gid {Gid}: frame of {Length} bytes exceeds the {Max}-byte limit")]
    public static partial void FrameTooLarge(ILogger logger, int pid, uint uid, uint gid, long length, int max);

    [LoggerMessage(IpcLogEvents.FrameReadTimedOut, LogLevel.Warning, "Closed connection from pid {Pid} uid {Uid} gid {Gid}: a frame did not complete within {Timeout}")]
    public static partial void FrameReadTimedOut(ILogger logger, int pid, uint uid, uint gid, TimeSpan timeout);

    [LoggerMessage(IpcLogEvents.WriteFailed, LogLevel.Warning, "Closed connection from pid {Pid} uid {Uid} gid {Gid}: writing a reply failed ({Reason})")]
    public static partial void WriteFailed(ILogger logger, int pid, uint uid, uint gid, string reason);

    [LoggerMessage(IpcLogEvents.ParseError, LogLevel.Debug, "Frame from pid {Pid} uid {Uid} gid {Gid} is not valid JSON")]
    public static partial void ParseError(ILogger logger, int pid, uint uid, uint gid);

    [LoggerMessage(IpcLogEvents.InvalidRequest, LogLevel.Debug, "Invalid request from pid {Pid} uid {Uid} gid {Gid}: {Reason}")]
    public static partial void InvalidRequest(ILogger logger, int pid, uint uid, uint gid, string reason);

    [LoggerMessage(IpcLogEvents.CallRefused, LogLevel.Warning, "Refused {Method} to pid {Pid} uid {Uid} gid {Gid}: allowed callers are {Policy}")]
    public static partial void CallRefused(ILogger logger, string method, int pid, uint uid, uint gid, string policy);

    [LoggerMessage(IpcLogEvents.MethodNotFound, LogLevel.Debug, "Unknown method {Method} from pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void MethodNotFound(ILogger logger, string method, int pid, uint uid, uint gid);

    [LoggerMessage(IpcLogEvents.HandlerFailed, LogLevel.Error, "{Method} failed for pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void HandlerFailed(ILogger logger, string method, int pid, uint uid, uint gid, Exception exception);

    [LoggerMessage(IpcLogEvents.HandlerTimedOut, LogLevel.Warning, "{Method} for pid {Pid} uid {Uid} gid {Gid} did not finish within {Timeout}; cancelled")]
    public static partial void HandlerTimedOut(ILogger logger, string method, int pid, uint uid, uint gid, TimeSpan timeout);

    [LoggerMessage(IpcLogEvents.ResultTooLarge, LogLevel.Error, "{Method} produced a reply of {Length} bytes, over the frame limit; replied internal error")]
    public static partial void ResultTooLarge(ILogger logger, string method, int length);

    [LoggerMessage(IpcLogEvents.CallCancelled, LogLevel.Debug, "{Method} for pid {Pid} uid {Uid} gid {Gid} was cancelled ({Reason})")]
    public static partial void CallCancelled(ILogger logger, string method, int pid, uint uid, uint gid, string reason);
}
