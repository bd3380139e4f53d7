using System.Runtime.InteropServices;

namespace BoxBot.Ipc.Internal;

/// <summary>The socket options .NET has no API for: SO_PEERCRED and SO_PEERGROUPS. (File and account calls live in BoxBot.Linux.)</summary>
internal static unsafe partial class UnixNative
{
    public const int SolSocket = 1;
    public const int SoPeerCred = 17;
    public const int SoPeerGroups = 59;

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(nint sockfd, int level, int optname, void* optval, ref uint optlen);
}
