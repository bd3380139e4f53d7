namespace BoxBot.Ipc;

/// <summary>The set of principals allowed to call one method. A peer is allowed when any principal matches.</summary>
public sealed class CallerPolicy
{
    private readonly Principal[] _principals;

    private CallerPolicy(Principal[] principals) => _principals = principals;

    public IReadOnlyList<Principal> Principals => _principals;

    /// <summary>
    /// A policy allowing any of <paramref name="principals"/>. At least one is required: a method
    /// nobody may call is a configuration mistake, not a policy.
    /// </summary>
    public static CallerPolicy Of(params Principal[] principals)
    {
        ArgumentNullException.ThrowIfNull(principals);
        if (principals.Length == 0)
        {
            throw new ArgumentException("A caller policy needs at least one principal.", nameof(principals));
        }
        foreach (var p in principals)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(principals));
        }
        return new CallerPolicy((Principal[])principals.Clone());
    }

    public bool Allows(in PeerCredentials peer)
    {
        foreach (var p in _principals)
        {
            if (p.Matches(peer))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>For example <c>root, self, group boxbot-admin (unknown)</c>.</summary>
    public override string ToString() => string.Join(", ", _principals.Select(p => p.ToString()));
}
