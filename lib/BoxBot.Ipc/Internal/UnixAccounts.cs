using System.Runtime.InteropServices;

namespace BoxBot.Ipc.Internal;

/// <summary>Name → id lookups through NSS (getpwnam_r/getgrnam_r), so /etc/passwd, systemd-userdb etc. all work.</summary>
internal static unsafe class UnixAccounts
{
    private const int InitialBuffer = 16 * 1024;
    private const int MaxBuffer = 1024 * 1024;

    /// <summary>The uid of <paramref name="name"/>, or null when no such user exists.</summary>
    public static uint? LookupUid(string name)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            UnixNative.Passwd pwd;
            UnixNative.Passwd* result = null;
            int rc;
            fixed (byte* b = buffer)
            {
                rc = UnixNative.getpwnam_r(name, &pwd, b, (nuint)size, &result);
            }
            if (rc == UnixNative.ERANGE)
            {
                continue;
            }
            if (rc == UnixNative.EINTR)
            {
                size /= 2;
                continue;
            }
            return rc == 0 && result != null ? pwd.Uid : null;
        }
        return null;
    }

    /// <summary>The gid of group <paramref name="name"/>, or null when no such group exists.</summary>
    public static uint? LookupGid(string name)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            UnixNative.Group grp;
            UnixNative.Group* result = null;
            int rc;
            fixed (byte* b = buffer)
            {
                rc = UnixNative.getgrnam_r(name, &grp, b, (nuint)size, &result);
            }
            if (rc == UnixNative.ERANGE)
            {
                continue;
            }
            if (rc == UnixNative.EINTR)
            {
                size /= 2;
                continue;
            }
            return rc == 0 && result != null ? grp.Gid : null;
        }
        return null;
    }

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
            throw new IpcException("getsockopt(SO_PEERCRED) failed: " + UnixNative.ErrorText(errno));
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
            groupsError = "getsockopt(SO_PEERGROUPS) failed: " + UnixNative.ErrorText(errno);
            // ERANGE tells us the size needed in glen; anything else (old kernel) leaves the primary gid only.
            if (errno != UnixNative.ERANGE || glen / sizeof(uint) <= gids.Length)
            {
                break;
            }
            gids = new uint[glen / sizeof(uint)];
        }
        return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid, groups.AsReadOnly());
    }
}
