using System.Globalization;
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
        if (Native.prctl(Native.PR_SET_PDEATHSIG, Native.SIGTERM, 0, 0, 0) != 0)
        {
            log.LogCritical(HostLogEvents.StartFailed, "prctl(PR_SET_PDEATHSIG) failed");
            return false;
        }
        if (Native.getppid() != expected)
        {
            log.LogCritical(HostLogEvents.StartFailed, "the dev supervisor (pid {Pid}) is gone; exiting", expected);
            return false;
        }
        return true;
    }
}
