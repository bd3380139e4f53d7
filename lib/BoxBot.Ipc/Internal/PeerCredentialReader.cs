using System.Runtime.InteropServices;
using BoxBot.Linux;

namespace BoxBot.Ipc.Internal;

/// <summary>Who is on the other end of a connected Unix socket.</summary>
internal static unsafe class PeerCredentialReader
{
    /// <summary>SO_PEERCRED and SO_PEERGROUPS of a connected Unix socket.</summary>
    public static PeerCredentials ReadPeer(System.Net.Sockets.Socket socket, out string? groupsError)
    {
        groupsError = null;
        var fd = socket.Handle;
        UnixNative.UCred cred;
        var len = (uint)sizeof(UnixNative.UCred);
        if (UnixNative.getsockopt(fd, UnixNative.SolSocket, UnixNative.SoPeerCred, &cred, ref len) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IpcException("getsockopt(SO_PEERCRED) failed: " + Errno.Describe(errno));
        }

        var groups = new List<uint> { cred.Gid };
        var gids = new uint[64];
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var glen = (uint)(gids.Length * sizeof(uint));
            int rc;
            fixed (uint* p = gids)
            {
                rc = UnixNative.getsockopt(fd, UnixNative.SolSocket, UnixNative.SoPeerGroups, p, ref glen);
            }
            if (rc == 0)
            {
                for (var i = 0; i < glen / sizeof(uint); i++)
                {
                    if (!groups.Contains(gids[i]))
                    {
                        groups.Add(gids[i]);
                    }
                }
                groupsError = null;
                break;
            }
            var errno = Marshal.GetLastPInvokeError();
            groupsError = "getsockopt(SO_PEERGROUPS) failed: " + Errno.Describe(errno);
            // ERANGE tells us the size needed in glen; anything else (old kernel) leaves the primary gid only.
            if (errno != Errno.ERANGE || glen / sizeof(uint) <= gids.Length)
            {
                break;
            }
            gids = new uint[glen / sizeof(uint)];
        }
        return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid, groups.AsReadOnly());
    }
}
