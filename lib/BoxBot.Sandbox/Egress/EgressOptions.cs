using System.Net;

namespace BoxBot.Sandbox.Egress;

/// <summary>
/// The egress proxy's policy and limits. The defaults are the production ones; tests replace
/// <see cref="IsAllowed"/> and <see cref="Resolve"/> (there is no internet in a test, only loopback).
/// </summary>
public sealed record EgressOptions
{
    public static EgressOptions Default { get; } = new();

    /// <summary>
    /// Whether a job may reach an address. Checked on every address a name resolves to, and the connection goes
    /// to that very address: the proxy never resolves a second time, so a name that changes its answer
    /// (DNS rebinding) cannot slip a private address past the check.
    /// </summary>
    public Func<IPAddress, bool> IsAllowed { get; init; } = PublicAddress.IsPublic;

    /// <summary>Name resolution. IP literals in a request are never passed here.</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; init; } = Dns.GetHostAddressesAsync;

    /// <summary>Connections served at once; one more is answered 503 and closed.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>The request line and headers together; a larger head is answered 400.</summary>
    public int MaxHeaderBytes { get; init; } = 16 * 1024;

    /// <summary>Resolving the name and connecting to the origin, all addresses tried together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From accepting a connection to the end of its request head (a slow-header client holds a slot).</summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A tunnel or forwarded request with no bytes in either direction for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(IsAllowed);
        ArgumentNullException.ThrowIfNull(Resolve);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        // The shortest useful head ("CONNECT a:1 HTTP/1.1\r\n\r\n") is 24 bytes; below a few hundred nothing real fits.
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderBytes, 256, nameof(MaxHeaderBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeaderTimeout, TimeSpan.Zero, nameof(HeaderTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
    }
}
