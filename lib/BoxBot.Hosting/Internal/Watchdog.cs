using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting.Internal;

/// <summary>
/// Pets systemd's watchdog at half its interval, but only while the control socket still
/// accepts: a daemon whose accept loop died gets restarted by systemd instead of looking alive.
/// </summary>
internal static class Watchdog
{
    public static async Task RunAsync(SdNotify notify, JsonRpcServer server, ILogger log, CancellationToken cancellationToken)
    {
        if (notify.WatchdogInterval is not { } interval)
        {
            return;
        }
        log.LogDebug(HostLogEvents.Watchdog, "watchdog every {Ms} ms", interval.TotalMilliseconds / 2);
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            do
            {
                if (server.IsAccepting)
                {
                    notify.Watchdog();
                }
                else
                {
                    log.LogWarning(HostLogEvents.Watchdog, "control socket is not accepting; withholding the watchdog ping");
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
