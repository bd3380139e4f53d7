using System.Runtime.InteropServices;

namespace BoxBot.Linux;

public static class Errno
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EACCES = 13;
    public const int ERANGE = 34;

    /// <summary>"Permission denied (errno 13)".</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno) + " (errno " + errno + ")";
}
