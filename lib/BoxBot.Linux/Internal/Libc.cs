using System.Runtime.InteropServices;

namespace BoxBot.Linux.Internal;

internal static unsafe partial class Libc
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENOTDIR = 20;
    public const int ERANGE = 34;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const uint StatxBasicStats = 0x7FF;
    public const int StatxSize = 256;
    public const int OReadOnly = 0;
    public const int OCloseOnExec = 0x80000; // same value on x86_64 and aarch64
    public const int PR_SET_PDEATHSIG = 1;

    // struct statx has one layout on every architecture (unlike struct stat): stx_nlink at 16,
    // stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28, stx_ino at 32, stx_size at 40,
    // stx_dev_major/minor at 136/140.
    public static FileStatus DecodeStatx(ReadOnlySpan<byte> b) => new(
        Mode: MemoryMarshal.Read<ushort>(b[28..]),
        Uid: MemoryMarshal.Read<uint>(b[20..]),
        Gid: MemoryMarshal.Read<uint>(b[24..]),
        Inode: MemoryMarshal.Read<ulong>(b[32..]),
        DevMajor: MemoryMarshal.Read<uint>(b[136..]),
        DevMinor: MemoryMarshal.Read<uint>(b[140..]),
        Links: MemoryMarshal.Read<uint>(b[16..]),
        Size: MemoryMarshal.Read<long>(b[40..]));

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

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int dirfd, string pathname, int flags, uint mask, byte* statxbuf);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string pathname, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc")]
    public static partial int close(int fd);

    public const int FGetFd = 1;
    public const int FSetFd = 2;
    public const int FdCloseOnExec = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lchown(string path, uint owner, uint group);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial uint getegid();

    [LibraryImport("libc")]
    public static partial int getppid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    // The *_r variants return the error number instead of setting errno.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getpwnam_r(string name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport("libc")]
    public static partial int getpwuid_r(uint uid, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport("libc")]
    public static partial int getgrgid_r(uint gid, Group* grp, byte* buf, nuint buflen, Group** result);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int getgrnam_r(string name, Group* grp, byte* buf, nuint buflen, Group** result);
}
