using System.Runtime.InteropServices;
using BoxBot.Linux.Internal;

namespace BoxBot.Linux;

/// <summary>Process calls: who we run as, our parent, signals, and the parent-death signal.</summary>
public static class LinuxProcess
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public static uint EffectiveUid => Libc.geteuid();

    public static uint EffectiveGid => Libc.getegid();

    public static int ParentPid => Libc.getppid();

    /// <summary>kill(2); false when the process does not exist (or may not be signalled).</summary>
    public static bool Signal(int pid, int signal) => Libc.kill(pid, signal) == 0;

    /// <summary>
    /// prctl(PR_SET_PDEATHSIG): the kernel sends <paramref name="signal"/> when the thread that
    /// forked us exits. Throws <see cref="IOException"/> when the call fails.
    /// </summary>
    public static void SetParentDeathSignal(int signal)
    {
        if (Libc.prctl(Libc.PR_SET_PDEATHSIG, (nuint)signal, 0, 0, 0) != 0)
        {
            throw new IOException("prctl(PR_SET_PDEATHSIG): " + Errno.Describe(Marshal.GetLastPInvokeError()));
        }
    }
}
