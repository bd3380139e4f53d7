using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting;

/// <summary>Log event ids of the daemon lifecycle (1xx). Other assemblies keep their own ranges in their own table.</summary>
public static class HostLogEvents
{
    public static readonly EventId Starting = new(100, "starting");
    public static readonly EventId Ready = new(101, "ready");
    public static readonly EventId ConfigDefaults = new(102, "config-defaults");
    public static readonly EventId ShutdownRequested = new(110, "shutdown-requested");
    public static readonly EventId ShutdownPhase = new(111, "shutdown-phase");
    public static readonly EventId ShutdownPhaseFailed = new(112, "shutdown-phase-failed");
    public static readonly EventId Stopped = new(113, "stopped");
    public static readonly EventId StartFailed = new(120, "start-failed");
    public static readonly EventId Watchdog = new(130, "watchdog");
}
