namespace BoxBot.Ipc;

/// <summary>What a handler knows about the call besides its params.</summary>
public sealed class RpcContext
{
    /// <summary>Public so handlers can be unit-tested without a socket.</summary>
    public RpcContext(PeerCredentials peer, string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        Peer = peer;
        Method = method;
    }

    public PeerCredentials Peer { get; }

    public string Method { get; }
}
