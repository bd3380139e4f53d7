using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Text.Json.Serialization.Metadata;
using BoxBot.Ipc.Internal;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;

namespace BoxBot.Ipc;

/// <summary>
/// A JSON-RPC 2.0 server on a Unix domain socket. Every method carries a <see cref="CallerPolicy"/>
/// checked against the peer's kernel-reported credentials on every request.
/// Shutdown phases: <see cref="StopAcceptingAsync"/>, <see cref="DrainAsync"/>, <see cref="DisposeAsync"/>.
/// </summary>
public sealed partial class JsonRpcServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, MethodEntry> _methods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ServerConnection, Task> _connections = new();
    // Neither source is linked or timed, so neither needs disposing; keeping them alive avoids disposal races.
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _abortRequests = new();
    private readonly Lock _lifecycle = new();
    private Socket? _listener;
    private FileStatus? _socketIdentity;
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stopTask;
    private int _connectionCount;
    private volatile bool _started;
    private volatile bool _stopping;
    private int _disposed;

    public JsonRpcServer(IpcServerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SocketPath, nameof(options.SocketPath));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConnections, 1, nameof(options.MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequestsPerConnection, 1, nameof(options.MaxConcurrentRequestsPerConnection));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FrameReadTimeout, TimeSpan.Zero, nameof(options.FrameReadTimeout));
        ValidateTimeout(options.DefaultMethodTimeout, nameof(options.DefaultMethodTimeout));
        Options = options;
        Logger = logger;
    }

    public string SocketPath => Options.SocketPath;

    public bool IsAccepting => _started && !_stopping && _disposed == 0;

    public int ActiveConnections => Volatile.Read(ref _connectionCount);

    public int ActiveRequests => Tracker.Count;

    internal IpcServerOptions Options { get; }

    internal ILogger Logger { get; }

    internal RequestTracker Tracker { get; } = new();

    internal CancellationToken AbortRequestsToken => _abortRequests.Token;

    /// <summary>False once shutdown began: requests arriving on open connections get ShuttingDown.</summary>
    internal bool IsAcceptingRequests => !_stopping;

    internal bool TryGetMethod(string name, [MaybeNullWhen(false)] out MethodEntry entry) => _methods.TryGetValue(name, out entry);

    /// <summary>
    /// Adds a method. <paramref name="timeout"/> (default <see cref="IpcServerOptions.DefaultMethodTimeout"/>,
    /// or <see cref="Timeout.InfiniteTimeSpan"/>) cancels the handler's token and replies Timeout.
    /// </summary>
    public void Map<TParams, TResult>(
        string method,
        CallerPolicy policy,
        JsonTypeInfo<TParams> paramsType,
        JsonTypeInfo<TResult> resultType,
        Func<TParams, RpcContext, CancellationToken, ValueTask<TResult>> handler,
        TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(paramsType);
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(handler);
        if (method.StartsWith("$/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Method names starting with '$/' are reserved for the protocol: {method}", nameof(method));
        }
        var effective = timeout ?? Options.DefaultMethodTimeout;
        ValidateTimeout(effective, nameof(timeout));
        var entry = new MethodEntry<TParams, TResult>(method, policy, effective, paramsType, resultType, handler);
        if (!_methods.TryAdd(method, entry))
        {
            throw new ArgumentException($"Method {method} is already mapped on {SocketPath}.", nameof(method));
        }
    }

    /// <summary>
    /// Claims the socket path (replacing only a stale socket), binds, sets mode and group, then
    /// listens — so no connection is accepted before the permissions are in place.
    /// </summary>
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (!OperatingSystem.IsLinux())
            {
                // SO_PEERCRED, SO_PEERGROUPS and statx are Linux interfaces.
                throw new PlatformNotSupportedException("BoxBot.Ipc servers run on Linux only.");
            }
            if (_started)
            {
                throw new InvalidOperationException($"The server on {SocketPath} was already started.");
            }
            var path = SocketPath;
            if (Options.InheritedListener is { } inherited)
            {
                _listener = Adopt(inherited, path);
                _started = true;
                _acceptLoop = AcceptLoopAsync(_listener, _stopAccepting.Token);
                Log.Listening(Logger, path, "from systemd", "from systemd");
                return;
            }
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is null || !Directory.Exists(directory))
            {
                throw new IpcException($"Cannot listen on {path}: directory {directory} does not exist. Create it before starting (installed: /usr/lib/tmpfiles.d/boxbot.conf makes /run/boxbot; in development, boxbot dev up makes $BOXBOT_HOME/run).") { SocketPath = path };
            }
            UnixDomainSocketEndPoint endpoint;
            try
            {
                endpoint = new UnixDomainSocketEndPoint(path);
            }
            catch (ArgumentException ex)
            {
                throw new IpcException($"Cannot listen on {path}: the path is too long for a Unix socket (at most 107 bytes).", ex) { SocketPath = path };
            }
            if (SocketFile.ClaimPath(path))
            {
                Log.StaleSocketRemoved(Logger, path);
            }

            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            var bound = false;
            try
            {
                listener.Bind(endpoint);
                bound = true;
                File.SetUnixFileMode(path, Options.SocketMode);
                if (!string.IsNullOrEmpty(Options.SocketGroup))
                {
                    SocketFile.ChangeGroup(path, Options.SocketGroup);
                }
                _socketIdentity = SocketFile.Inspect(path);
                listener.Listen(Math.Min(Options.MaxConnections, 512));
            }
            catch (Exception ex)
            {
                listener.Dispose();
                if (bound)
                {
                    File.Delete(path);
                }
                if (ex is IpcException)
                {
                    throw;
                }
                throw new IpcException($"Cannot listen on {path}: {ex.Message}", ex) { SocketPath = path };
            }
            _listener = listener;
            _started = true;
            _acceptLoop = AcceptLoopAsync(listener, _stopAccepting.Token);
            Log.Listening(Logger, path, Convert.ToString((int)Options.SocketMode, 8), string.IsNullOrEmpty(Options.SocketGroup) ? "unchanged" : Options.SocketGroup);
        }
    }

    private static Socket Adopt(Socket inherited, string path)
    {
        string? bound;
        bool listening;
        try
        {
            bound = (inherited.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
            listening = inherited.AddressFamily == AddressFamily.Unix && inherited.SocketType == SocketType.Stream
                && inherited.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int accepting && accepting != 0;
        }
        catch (SocketException ex)
        {
            throw new IpcException($"The socket systemd passed for {path} cannot be used: {ex.Message}", ex) { SocketPath = path };
        }
        if (!listening || bound != Path.GetFullPath(path))
        {
            throw new IpcException($"The socket systemd passed is not a listening Unix stream socket on {path} (it is bound to '{bound}'): "
                + "the .socket unit's ListenStream= must name this daemon's socket.")
            { SocketPath = path };
        }
        return inherited;
    }

    private static void ValidateTimeout(TimeSpan timeout, string name)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "A timeout must be positive or Timeout.InfiniteTimeSpan.");
        }
    }
}
