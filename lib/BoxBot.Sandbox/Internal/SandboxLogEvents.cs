using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Internal;

/// <summary>The sandbox's log event ids, in one table. Messages carry job ids, never script text or secret values.</summary>
internal static class SandboxLogEvents
{
    public static readonly EventId JobFinished = new(300, "job-finished");
    public static readonly EventId JobSetupFailed = new(301, "job-setup-failed");
    public static readonly EventId JobCleanupFailed = new(302, "job-cleanup-failed");
    public static readonly EventId JobRefused = new(303, "job-refused");
    public static readonly EventId StaleJobsRemoved = new(304, "stale-jobs-removed");
    public static readonly EventId SdkPeerRefused = new(305, "sdk-peer-refused");
    public static readonly EventId WarmJobFailed = new(306, "warm-job-failed");
    public static readonly EventId Cgroups = new(307, "cgroups");
    public static readonly EventId EgressUnreachable = new(308, "egress-unreachable");
    public static readonly EventId HandshakeFailed = new(309, "handshake-failed");
}
