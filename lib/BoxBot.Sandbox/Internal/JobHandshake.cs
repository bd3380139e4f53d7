using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// The first bytes on a job's socket, before it is (or is not) the SDK channel. The launcher, with the workspace
/// mounted and still before pivot_root, sends one byte, <see cref="Hello"/>, carrying the job's proxy listener as
/// SCM_RIGHTS for network "internet"; the runner then opens the workspace through <c>/proc/PID/root</c> (the
/// launcher's own mount namespace is the only place it exists), takes the listener, and answers <see cref="Ready"/>.
/// Only then does the launcher go on, so the runner never looks into a root that is being replaced.
/// </summary>
internal static unsafe class JobHandshake
{
    public const byte Hello = (byte)'H';
    public const byte Ready = (byte)'R';
    private const short PollIn = 1;

    /// <summary>CMSG_SPACE(sizeof(int)) on LP64: a 16-byte header, 4 bytes of descriptor, padded to 8.</summary>
    private const int ControlSpace = 24;
    private const int ControlLength = 20;

    /// <summary>Launcher side: sends the hello, with <paramref name="passFd"/> attached unless it is -1.</summary>
    public static void Send(int socket, int passFd)
    {
        var hello = Hello;
        var iov = new IoVec { Base = &hello, Length = 1 };
        var control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        var message = new MsgHdr { Iov = &iov, IovLength = 1 };
        if (passFd >= 0)
        {
            *(nuint*)control = ControlLength;
            *(int*)(control + 8) = SOL_SOCKET;
            *(int*)(control + 12) = SCM_RIGHTS;
            *(int*)(control + 16) = passFd;
            message.Control = control;
            message.ControlLength = ControlSpace;
        }
        LaunchFailure.Check((int)sendmsg(socket, &message, 0), "sendmsg hello");
    }

    /// <summary>Launcher side: blocks until the runner answers <see cref="Ready"/>.</summary>
    public static void AwaitReady(int socket)
    {
        byte answer = 0;
        nint n;
        do
        {
            n = read(socket, &answer, 1);
        }
        while (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 4); // EINTR
        LaunchFailure.Check((int)n, "read the runner's answer");
        if (n != 1 || answer != Ready)
        {
            throw new LaunchFailure("the runner closed the job's socket instead of answering");
        }
    }

    /// <summary>
    /// Runner side: waits up to <paramref name="timeoutMs"/> for the hello and reads it; returns the descriptor it carried
    /// (close-on-exec), or -1. Throws <see cref="SandboxException"/> on a timeout or when the first byte is not a hello.
    /// </summary>
    public static int Receive(int socket, int timeoutMs)
    {
        var poll = new PollFd { Fd = socket, Events = PollIn };
        int ready;
        do
        {
            ready = SandboxNative.poll(&poll, 1, timeoutMs);
        }
        while (ready < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 4);
        if (ready <= 0)
        {
            throw new SandboxException(ready == 0 ? $"no hello from the launcher within {timeoutMs} ms" : "waiting for the launcher's hello: " + LastError());
        }
        byte hello = 0;
        var iov = new IoVec { Base = &hello, Length = 1 };
        var control = stackalloc byte[ControlSpace];
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSpace };
        nint n;
        do
        {
            n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
        }
        while (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 4);
        var fd = -1;
        if (message.ControlLength >= ControlLength && *(int*)(control + 8) == SOL_SOCKET && *(int*)(control + 12) == SCM_RIGHTS)
        {
            fd = *(int*)(control + 16);
        }
        if (n != 1 || hello != Hello)
        {
            if (fd >= 0)
            {
                _ = close(fd);
            }
            throw new SandboxException(n < 0 ? "reading the launcher's hello: " + LastError() : "the launcher's first byte was not a hello");
        }
        return fd;
    }
}
