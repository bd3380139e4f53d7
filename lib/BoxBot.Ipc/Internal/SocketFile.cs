using System.Net.Sockets;
using BoxBot.Linux;

namespace BoxBot.Ipc.Internal;

internal static class SocketFile
{
    /// <summary>lstat of the socket path: null when nothing is there.</summary>
    public static FileStatus? Inspect(string path)
    {
        try
        {
            return LinuxFile.LStat(path);
        }
        catch (IOException e)
        {
            throw new IpcException($"Cannot inspect {path}: {e.Message}", e) { SocketPath = path };
        }
    }

    /// <summary>
    /// Makes <paramref name="path"/> free for bind: removes a stale socket (one nobody answers on);
    /// refuses when a server is listening or when the path is anything but a socket.
    /// </summary>
    /// <returns>True when a stale socket was removed.</returns>
    public static bool ClaimPath(string path)
    {
        if (Inspect(path) is not { } existing)
        {
            return false;
        }
        if (!existing.IsSocket)
        {
            throw new IpcException(
                $"Cannot listen on {path}: a {existing.TypeName} exists there and only a stale socket may be replaced. Remove it or choose another socket path.")
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
    public static void DeleteIfSame(string path, FileStatus? bound)
    {
        try
        {
            if (bound is { } ours && Inspect(path) is { IsSocket: true } current && current.SameFileAs(ours))
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
        try
        {
            LinuxFile.ChangeGroup(path, gid);
        }
        catch (IOException e)
        {
            throw new IpcException($"Cannot set the group of socket {path} to '{group}' (gid {gid}): {e.Message}", e) { SocketPath = path };
        }
    }
}
