using System.Diagnostics;
using BoxBot.Linux;

namespace BoxBot.Bench.Webhook;

internal static class ServerProcess
{
    /// <summary>SIGTERM, then up to 10 s for it to exit; SIGKILL to the whole tree if it does not.</summary>
    public static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }
        LinuxProcess.Signal(process.Id, LinuxProcess.SIGTERM);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
