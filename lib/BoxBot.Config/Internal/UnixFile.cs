using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BoxBot.Config.Internal;

/// <summary>What a credential check needs from stat: type, permission bits, owner and identity.</summary>
internal readonly record struct FileStatus(uint Mode, uint Uid, ulong Inode, uint DevMajor, uint DevMinor)
{
    private const uint TypeMask = 0xF000; // S_IFMT
    private const uint RegularType = 0x8000; // S_IFREG
    private const uint LinkType = 0xA000; // S_IFLNK

    public bool IsRegularFile => (Mode & TypeMask) == RegularType;
    public bool IsSymbolicLink => (Mode & TypeMask) == LinkType;
    public uint Permissions => Mode & 0xFFF;

    public bool SameFileAs(FileStatus other) =>
        Inode == other.Inode && DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}

/// <summary>
/// The few POSIX calls .NET does not expose: owner uid (no managed API), lstat-without-following,
/// fstat of an open handle (to close the gap between checking a path and reading it) and fsync of a
/// directory (FileStream refuses to open one). statx is used because its struct has one layout on
/// every architecture, unlike struct stat (x86_64 vs aarch64).
/// </summary>
internal static partial class UnixFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7FF;
    private const int StatxSize = 256;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int OReadOnly = 0;
    private const int OCloseOnExec = 0x80000; // same value on x86_64 and aarch64

    public static uint EffectiveUid() => geteuid();

    /// <summary>lstat: the entry itself, not what a symlink points to; null when it does not exist.</summary>
    public static unsafe FileStatus? LStat(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) == 0)
        {
            return Decode(new ReadOnlySpan<byte>(buffer, StatxSize));
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is ENOENT or ENOTDIR ? null : throw Failure("stat", path, errno);
    }

    /// <summary>fstat of an open file.</summary>
    public static unsafe FileStatus FStat(SafeFileHandle handle, string pathForMessages)
    {
        var buffer = stackalloc byte[StatxSize];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) != 0)
            {
                throw Failure("fstat", pathForMessages, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return Decode(new ReadOnlySpan<byte>(buffer, StatxSize));
    }

    /// <summary>fsync a directory so that a rename inside it survives a power cut.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = open(directory, OReadOnly | OCloseOnExec);
        if (fd < 0)
        {
            throw Failure("open", directory, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw Failure("fsync", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    // struct statx: stx_uid at 20, stx_mode (u16) at 28, stx_ino at 32, stx_dev_major/minor at 136/140.
    private static FileStatus Decode(ReadOnlySpan<byte> b) => new(
        Mode: MemoryMarshal.Read<ushort>(b[28..]),
        Uid: MemoryMarshal.Read<uint>(b[20..]),
        Inode: MemoryMarshal.Read<ulong>(b[32..]),
        DevMajor: MemoryMarshal.Read<uint>(b[136..]),
        DevMinor: MemoryMarshal.Read<uint>(b[140..]));

    private static IOException Failure(string call, string path, int errno) =>
        new($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string pathname, int flags, uint mask, byte* statxbuf);

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string pathname, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
