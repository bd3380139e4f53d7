namespace BoxBot.Ipc;

/// <summary>How a <see cref="JsonRpcServer"/> listens. Immutable; derive variants with <c>with</c>.</summary>
public sealed record IpcServerOptions
{
    /// <summary>Path of the Unix socket. Its directory must already exist.</summary>
    public required string SocketPath { get; init; }

    /// <summary>Permissions set on the socket file after bind and before listen. Default 0660.</summary>
    public UnixFileMode SocketMode { get; init; } =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Group the socket file is chowned to (null or empty: leave the group as created).</summary>
    public string? SocketGroup { get; init; }

    /// <summary>
    /// A listening socket made by someone else: systemd's socket unit (see <c>BoxBot.Linux.SystemdListenFds</c>).
    /// The server then neither binds, sets the mode and group (the unit did) nor removes the socket file at stop
    /// (systemd keeps listening on it and starts the daemon again for the next caller). It must be a listening
    /// Unix stream socket bound to <see cref="SocketPath"/>.
    /// </summary>
    public System.Net.Sockets.Socket? InheritedListener { get; init; }

    /// <summary>Connections beyond this get one Busy error (id null) and are closed.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>Requests handled at once per connection; further frames are not read until a slot frees.</summary>
    public int MaxConcurrentRequestsPerConnection { get; init; } = 16;

    /// <summary>A frame whose first byte has arrived must complete within this; a reply must be written within it too.</summary>
    public TimeSpan FrameReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time limit for methods mapped without their own timeout.</summary>
    public TimeSpan DefaultMethodTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
