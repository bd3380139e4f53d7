using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BoxBot.Sandbox.Sdk.Tests;

/// <summary>A real AF_UNIX stream socketpair; the job's end can be handed to a child process by number.</summary>
internal static unsafe partial class SocketPair
{
    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int SockCloExec = 0x80000;
    private const int FSetFd = 2;

    /// <summary>Serialises "clear close-on-exec, start, close" so no other child of this process inherits a job's end.</summary>
    public static readonly Lock InheritLock = new();

    /// <summary>Both ends close-on-exec; the caller clears it on the job's end only around starting the child.</summary>
    public static (Socket Host, int JobFd) Create()
    {
        var fds = stackalloc int[2];
        if (socketpair(AfUnix, SockStream | SockCloExec, 0, fds) != 0)
        {
            throw new InvalidOperationException($"socketpair failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), fds[1]);
    }

    public static Socket Wrap(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true));

    public static void MakeInheritable(int fd)
    {
        if (fcntl(fd, FSetFd, 0) != 0)
        {
            throw new InvalidOperationException($"fcntl(F_SETFD) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static void Close(int fd) => _ = close(fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
