using BoxBot.Ipc.Internal;
using BoxBot.Linux;

namespace BoxBot.Ipc;

/// <summary>
/// One kind of caller that may call a method. Names are resolved to ids once, when the principal
/// is created; a name that does not exist matches nobody (the method fails closed, and
/// <see cref="CallerPolicy.ToString"/> shows "(unknown)" so the log explains why).
/// </summary>
public abstract record Principal
{
    private protected Principal()
    {
    }

    /// <summary>uid 0.</summary>
    public static Principal Root { get; } = new UidPrincipal(0, "root");

    /// <summary>The server process's own effective uid (geteuid), read when this property is first used.</summary>
    public static Principal Self => SelfHolder.Value;

    public static Principal Uid(uint uid) => new UidPrincipal(uid, "uid " + uid);

    /// <summary>Peers whose primary gid or any supplementary gid is <paramref name="gid"/>.</summary>
    public static Principal Gid(uint gid) => new GidPrincipal(gid, "gid " + gid);

    /// <summary>The user called <paramref name="name"/>, resolved now with getpwnam_r.</summary>
    public static Principal User(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new UidPrincipal(UnixAccounts.LookupUid(name), "user " + name);
    }

    /// <summary>Members of group <paramref name="name"/> (primary or supplementary), resolved now with getgrnam_r.</summary>
    public static Principal Group(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new GidPrincipal(UnixAccounts.LookupGid(name), "group " + name);
    }

    /// <summary>True when <paramref name="peer"/> is this principal.</summary>
    public abstract bool Matches(in PeerCredentials peer);

    private static class SelfHolder
    {
        public static readonly Principal Value = new UidPrincipal(LinuxProcess.EffectiveUid, "self");
    }

    private sealed record UidPrincipal(uint? Id, string Label) : Principal
    {
        public override bool Matches(in PeerCredentials peer) => Id is { } id && peer.Uid == id;

        public override string ToString() => Id is null ? Label + " (unknown)" : Label;
    }

    private sealed record GidPrincipal(uint? Id, string Label) : Principal
    {
        public override bool Matches(in PeerCredentials peer) => Id is { } id && peer.IsInGroup(id);

        public override string ToString() => Id is null ? Label + " (unknown)" : Label;
    }
}
