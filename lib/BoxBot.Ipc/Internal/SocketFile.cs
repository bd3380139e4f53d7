using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BoxBot.Ipc.Internal;

/// <summary>What is at a path, as far as deciding whether we may replace it.</summary>
internal enum PathKind
{
    Missing,
    Socket,
    Other,
}

/// <summary>Identity of the socket file we bound, so shutdown never unlinks a successor's socket.</summary>
internal readonly record struct FileIdentity(uint DevMajor, uint DevMinor, ulong Inode);

internal static unsafe class SocketFile
{
    public static PathKind Inspect(string path, out FileIdentity identity, out string typeName)
    {
        var buf = stackalloc byte[UnixNative.StatxBufferSize];
        identity = default;
        typeName = "nothing";
        if (UnixNative.statx(UnixNative.AtFdCwd, path, UnixNative.AtSymlinkNoFollow, UnixNative.StatxBasicStats, buf) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == UnixNative.ENOENT)
            {
                return PathKind.Missing;
            }
            throw new IpcException($"Cannot inspect {path}: {UnixNative.ErrorText(errno)}") { SocketPath = path };
        }
        var mode = *(ushort*)(buf + UnixNative.StatxModeOffset);
        identity = new FileIdentity(
            *(uint*)(buf + UnixNative.StatxDevMajorOffset),
            *(uint*)(buf + UnixNative.StatxDevMinorOffset),
            *(ulong*)(buf + UnixNative.StatxInoOffset));
        typeName = (mode & 0xF000) switch
        {
            0xC000 => "socket",
            0xA000 => "symbolic link",
            0x8000 => "regular file",
            0x4000 => "directory",
            0x1000 => "FIFO",
            _ => "special file",
        };
        return (mode & 0xF000) == 0xC000 ? PathKind.Socket : PathKind.Other;
    }

    /// <summary>
    /// Makes <paramref name="path"/> free for bind: removes a stale socket (one nobody answers on);
    /// refuses when a server is listening or when the path is anything but a socket.
    /// </summary>
    /// <returns>True when a stale socket was removed.</returns>
    public static bool ClaimPath(string path)
    {
        switch (Inspect(path, out _, out var typeName))
        {
            case PathKind.Missing:
                return false;
            case PathKind.Other:
                throw new IpcException(
                    $"Cannot listen on {path}: a {typeName} exists there and only a stale socket may be replaced. Remove it or choose another socket path.")
                { SocketPath = path };
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Non-blocking: a live server with a full backlog must not hang Start.
        probe.Blocking = false;
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // Connection pending in a full backlog: someone is listening.
        }
        catch (SocketException ex)
        {
            throw new IpcException($"Cannot listen on {path}: probing the existing socket failed: {ex.Message}", ex) { SocketPath = path };
        }
        throw new IpcException($"Cannot listen on {path}: another server is listening on {path}. Stop it first.") { SocketPath = path };
    }

    /// <summary>Unlinks <paramref name="path"/> only if it is still the file we bound.</summary>
    public static void DeleteIfSame(string path, FileIdentity identity)
    {
        try
        {
            if (Inspect(path, out var current, out _) == PathKind.Socket && current == identity)
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IpcException)
        {
            // Best effort at shutdown: a leftover socket is detected as stale by the next Start.
        }
    }

    public static void ChangeGroup(string path, string group)
    {
        var gid = UnixAccounts.LookupGid(group)
            ?? throw new IpcException($"Cannot set the group of socket {path}: group '{group}' does not exist. Create it or change the socket group setting.") { SocketPath = path };
        if (UnixNative.chown(path, uint.MaxValue, gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IpcException($"Cannot set the group of socket {path} to '{group}' (gid {gid}): {UnixNative.ErrorText(errno)}") { SocketPath = path };
        }
    }
}
