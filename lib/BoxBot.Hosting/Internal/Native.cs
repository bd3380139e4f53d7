using System.Runtime.InteropServices;

namespace BoxBot.Hosting.Internal;

internal static partial class Native
{
    internal const int PR_SET_PDEATHSIG = 1;
    internal const int SIGTERM = 15;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc")]
    internal static partial int getppid();

    [LibraryImport("libc")]
    internal static partial uint geteuid();
}
