using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Internal;

/// <summary>
/// The agent's package and approval log events (ids 400-419). They name approvals, requirements, packages with
/// versions, uids and pip's error lines: never secrets (pip is given none, and the index URL may hold no credentials).
/// </summary>
internal static partial class PackageLog
{
    [LoggerMessage(EventId = 400, EventName = "package-requested", Level = LogLevel.Information,
        Message = "approval {Id}: {RequestedBy} asks to install {Specs}; pending, resolved to {Packages}")]
    public static partial void Requested(ILogger logger, string id, string requestedBy, string specs, string packages);

    [LoggerMessage(EventId = 401, EventName = "package-request-refused", Level = LogLevel.Information,
        Message = "package request by {RequestedBy} for {Specs} refused: {Reason}")]
    public static partial void RequestRefused(ILogger logger, string requestedBy, string specs, string reason);

    [LoggerMessage(EventId = 402, EventName = "approval-approved", Level = LogLevel.Information,
        Message = "approval {Id} approved by {DecidedBy}: installing {Packages}")]
    public static partial void Approved(ILogger logger, string id, string decidedBy, string packages);

    [LoggerMessage(EventId = 403, EventName = "packages-installed", Level = LogLevel.Information,
        Message = "approval {Id}: installed {Packages}")]
    public static partial void Installed(ILogger logger, string id, string packages);

    [LoggerMessage(EventId = 404, EventName = "package-install-failed", Level = LogLevel.Warning,
        Message = "approval {Id}: installing {Packages} failed: {Error}")]
    public static partial void InstallFailed(ILogger logger, string id, string packages, string error);

    [LoggerMessage(EventId = 405, EventName = "approval-denied", Level = LogLevel.Information,
        Message = "approval {Id} denied by {DecidedBy}: {Packages} not installed")]
    public static partial void Denied(ILogger logger, string id, string decidedBy, string packages);

    [LoggerMessage(EventId = 406, EventName = "approval-ended", Level = LogLevel.Information,
        Message = "approval {Id} {State}: {Error}")]
    public static partial void Ended(ILogger logger, string id, string state, string error);

    [LoggerMessage(EventId = 407, EventName = "package-audit-failed", Level = LogLevel.Error,
        Message = "could not append to the package audit log {Path}: {Error}")]
    public static partial void AuditFailed(ILogger logger, string path, string error);
}
