using System.Runtime.InteropServices;

namespace BoxBot.Ipc.Internal;

/// <summary>The few libc calls .NET has no API for (peer credentials, account lookup, chown, file type).</summary>
internal static unsafe partial class UnixNative
{
    public const int SolSocket = 1;
    public const int SoPeerCred = 17;
    public const int SoPeerGroups = 59;

    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ERANGE = 34;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint StatxBasicStats = 0x7ff;
    public const int StatxBufferSize = 256;
    // Offsets in struct statx are fixed by the kernel ABI on every architecture, unlike struct stat.
    public const int StatxModeOffset = 28;
    public const int StatxInoOffset = 32;
    public const int StatxDevMajorOffset = 136;
    public const int StatxDevMinorOffset = 140;
    public const int StatxUidOffset = 20;
    public const int StatxGidOffset = 24;

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        public nint Gecos;
        public nint Dir;
        public nint Shell;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Group
    {
        public nint Name;
        public nint Password;
        public uint Gid;
        public nint Members;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(nint sockfd, int level, int optname, void* optval, ref uint optlen);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    // The *_r variants return the error number instead of setting errno.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getpwnam_r(string name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getgrnam_r(string name, Group* grp, byte* buf, nuint buflen, Group** result);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno) + " (errno " + errno + ")";
}
