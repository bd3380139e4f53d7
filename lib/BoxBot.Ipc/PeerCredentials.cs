namespace BoxBot.Ipc;

/// <summary>Who is on the other end of a connection, as the kernel reported it when the connection was accepted.</summary>
/// <param name="Pid">Process id from SO_PEERCRED (the process that called connect).</param>
/// <param name="Uid">Effective uid from SO_PEERCRED.</param>
/// <param name="Gid">Effective (primary) gid from SO_PEERCRED.</param>
/// <param name="Groups">Supplementary gids from SO_PEERGROUPS (Linux 4.13+), always including <paramref name="Gid"/>.</param>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    /// <summary>True when <paramref name="gid"/> is the peer's primary gid or one of its supplementary gids.</summary>
    public bool IsInGroup(uint gid)
    {
        if (Gid == gid)
        {
            return true;
        }
        // default(PeerCredentials) has no group list; treat it as empty rather than failing open or throwing.
        if (Groups is null)
        {
            return false;
        }
        foreach (var g in Groups)
        {
            if (g == gid)
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() => $"pid {Pid} uid {Uid} gid {Gid}";
}
