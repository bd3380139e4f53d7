using System.Globalization;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting.Internal;

/// <summary>
/// Under <c>boxbot dev up</c> a daemon must not outlive the supervisor, even one killed with
/// SIGKILL: the kernel sends us SIGTERM when the parent dies (PR_SET_PDEATHSIG), and we check
/// the parent is still the one that started us, closing the race where it died before prctl.
/// </summary>
internal static class DevParent
{
    public const string Variable = "BOXBOT_DEV_PARENT_PID";

    public static bool Attach(ILogger log)
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
        {
            log.LogCritical(HostLogEvents.StartFailed, "{Variable} is not a pid: {Value}", Variable, value);
            return false;
        }
        try
        {
            LinuxProcess.SetParentDeathSignal(LinuxProcess.SIGTERM);
        }
        catch (IOException e)
        {
            log.LogCritical(HostLogEvents.StartFailed, "{Reason}", e.Message);
            return false;
        }
        if (LinuxProcess.ParentPid != expected)
        {
            log.LogCritical(HostLogEvents.StartFailed, "the dev supervisor (pid {Pid}) is gone; exiting", expected);
            return false;
        }
        return true;
    }
}
