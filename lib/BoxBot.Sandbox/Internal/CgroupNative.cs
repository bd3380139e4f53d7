using System.Runtime.InteropServices;

namespace BoxBot.Sandbox.Internal;

/// <summary>The libc calls <see cref="JobCgroup"/> needs: the file system type, permission as the caller's effective ids, and exact errnos.</summary>
internal static unsafe partial class CgroupNative
{
    public const long CGROUP_SUPER_MAGIC = 0x27e0eb;
    public const long CGROUP2_SUPER_MAGIC = 0x63677270;

    public const int AT_FDCWD = -100;
    public const int AT_EACCESS = 0x200;
    public const int W_OK = 2;

    public const int O_WRONLY = 1;
    public const int O_CLOEXEC = 0x80000;

    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int EBUSY = 16;
    public const int ENOTEMPTY = 39;

    // Larger than struct statfs on every Linux ABI (120 bytes on x86_64 and aarch64, 64 or 84 on armhf).
    private const int StatfsBufferSize = 256;

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statfs_raw(string path, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int faccessat(int dirfd, string path, int mode, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>
    /// The file system magic of <paramref name="path"/> (f_type), or null with the errno in
    /// <see cref="Marshal.GetLastPInvokeError"/>. f_type is a native word at offset 0 on every
    /// Linux ABI; the magics fit in 32 bits, so a 32-bit word reads them too.
    /// </summary>
    public static long? FileSystemMagic(string path)
    {
        var buffer = stackalloc byte[StatfsBufferSize];
        if (statfs_raw(path, buffer) != 0)
        {
            return null;
        }
        return (long)*(nint*)buffer & 0xFFFFFFFF;
    }

    // pidfd_open and pidfd_send_signal have one number on every architecture (added after the syscall table unification).
    private const long SysPidfdSendSignal = 424;
    private const long SysPidfdOpen = 434;
    private const int SIGKILL = 9;

    /// <summary>pidfd_open(pid, 0): a descriptor naming this process and never a later one with the same pid; -1 if it is gone.</summary>
    public static int PidfdOpen(int pid) => (int)SandboxNative.syscall(SysPidfdOpen, pid, 0, 0, 0, 0);

    /// <summary>pidfd_send_signal(fd, SIGKILL); false when the process is already gone.</summary>
    public static bool PidfdKill(int fd) => SandboxNative.syscall(SysPidfdSendSignal, fd, SIGKILL, 0, 0, 0) == 0;

    public static string LastError() => BoxBot.Linux.Errno.Describe(Marshal.GetLastPInvokeError());
}
