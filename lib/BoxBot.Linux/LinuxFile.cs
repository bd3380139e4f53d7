using System.Runtime.InteropServices;
using BoxBot.Linux.Internal;
using Microsoft.Win32.SafeHandles;

namespace BoxBot.Linux;

/// <summary>
/// File calls .NET does not expose: lstat without following links (with the owner uid, which no
/// managed API gives), fstat of an open handle (to close the gap between checking a path and
/// reading it), chown of the group, and fsync of a directory (FileStream refuses to open one).
/// Failures are <see cref="IOException"/>s naming the call, the path and the errno.
/// </summary>
public static class LinuxFile
{
    /// <summary>lstat: the entry itself, not what a symlink points to; null when it does not exist.</summary>
    public static unsafe FileStatus? LStat(string path)
    {
        var buffer = stackalloc byte[Libc.StatxSize];
        if (Libc.statx(Libc.AtFdCwd, path, Libc.AtSymlinkNoFollow, Libc.StatxBasicStats, buffer) == 0)
        {
            return Libc.DecodeStatx(new ReadOnlySpan<byte>(buffer, Libc.StatxSize));
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno is Libc.ENOENT or Libc.ENOTDIR ? null : throw Failure("stat", path, errno);
    }

    /// <summary>fstat of an open file.</summary>
    public static unsafe FileStatus FStat(SafeFileHandle handle, string pathForMessages)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var buffer = stackalloc byte[Libc.StatxSize];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Libc.statx((int)handle.DangerousGetHandle(), "", Libc.AtEmptyPath, Libc.StatxBasicStats, buffer) != 0)
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
        return Libc.DecodeStatx(new ReadOnlySpan<byte>(buffer, Libc.StatxSize));
    }

    /// <summary>For <see cref="TryStatAt"/>: describe a symlink itself rather than what it points to.</summary>
    public const int AtSymlinkNoFollow = Libc.AtSymlinkNoFollow;
    /// <summary>For <see cref="TryStatAt"/> with an empty path: describe <c>dirfd</c> itself.</summary>
    public const int AtEmptyPath = Libc.AtEmptyPath;

    /// <summary>
    /// statx(dirfd, path, flags) for code that walks a tree by descriptor (openat with O_NOFOLLOW).
    /// False on failure, with the errno left in <see cref="Marshal.GetLastPInvokeError"/> for the
    /// caller to judge: a missing file is an answer there, not an exception.
    /// </summary>
    public static unsafe bool TryStatAt(int dirfd, string path, int flags, out FileStatus status)
    {
        var buffer = stackalloc byte[Libc.StatxSize];
        if (Libc.statx(dirfd, path, flags, Libc.StatxBasicStats, buffer) != 0)
        {
            status = default;
            return false;
        }
        status = Libc.DecodeStatx(new ReadOnlySpan<byte>(buffer, Libc.StatxSize));
        return true;
    }

    /// <summary>chown(path, -1, gid): change only the group.</summary>
    public static void ChangeGroup(string path, uint gid)
    {
        if (Libc.chown(path, uint.MaxValue, gid) != 0)
        {
            throw Failure("chown", path, Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>chown(path, uid, gid), not following a final symlink's target (lchown).</summary>
    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Libc.lchown(path, uid, gid) != 0)
        {
            throw Failure("chown", path, Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>fsync a directory so that a rename inside it survives a power cut.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = Libc.open(directory, Libc.OReadOnly | Libc.OCloseOnExec);
        if (fd < 0)
        {
            throw Failure("open", directory, Marshal.GetLastPInvokeError());
        }
        try
        {
            if (Libc.fsync(fd) != 0)
            {
                throw Failure("fsync", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static IOException Failure(string call, string path, int errno) => new($"{call} {path}: {Errno.Describe(errno)}");
}
