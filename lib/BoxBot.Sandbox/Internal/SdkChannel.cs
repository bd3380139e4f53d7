using System.Net.Sockets;
using BoxBot.Sandbox.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// One job's socket on the runner's side: a Unix socket listening in the job's folder (0700, the runner's), which
/// accepts exactly one connection, from the runner's own uid (the launcher, before pivot_root takes the folder out of
/// reach), and removes its file at once. The connection starts with the <see cref="JobHandshake"/>: the runner opens
/// the job's workspace through the launcher's root (<see cref="WorkspacePath"/>), takes the proxy listener of a
/// network "internet" job and relays it to the egress proxy (<see cref="EgressRelay"/>), and answers. Then, for a
/// job with an SDK host, it serves the connection with an <see cref="SdkSession"/> until the job closes it. A warm
/// job's host is not known at first; requests are served once <see cref="Attach"/> names it.
/// </summary>
internal sealed class SdkChannel : IDisposable
{
    public const string SocketName = "sdk.sock";

    /// <summary>sun_path is 108 bytes with its terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly string _workspaceInLauncher;
    private readonly string _workspaceInJob;
    private readonly string? _egressSocket;
    private readonly TaskCompletionSource<ISdkHost?> _host = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly string _jobId;
    private readonly CancellationTokenSource _stop;
    private Task _serving = Task.CompletedTask;
    private SafeFileHandle? _workspace;
    private EgressRelay? _relay;
    private SdkSession? _session;
    private int _connected;
    private Func<Socket, CancellationToken, Task>? _raw;

    private SdkChannel(string path, Socket listener, string workspaceInLauncher, string workspaceInJob, string? egressSocket, ILogger logger, string jobId, CancellationToken ct)
    {
        SocketPath = path;
        _listener = listener;
        _workspaceInLauncher = workspaceInLauncher;
        _workspaceInJob = workspaceInJob;
        _egressSocket = egressSocket;
        _logger = logger;
        _jobId = jobId;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    public string SocketPath { get; }

    /// <summary>The runner's path to the job's workspace (a descriptor under /proc/self/fd), once the handshake is done; else null.</summary>
    public string? WorkspacePath => _workspace is { IsInvalid: false } w ? "/proc/self/fd/" + w.DangerousGetHandle() : null;

    public int Calls => Volatile.Read(ref _session)?.Calls ?? 0;

    public IReadOnlyList<SdkAttachment> Attachments => Volatile.Read(ref _session)?.Attachments ?? [];

    /// <summary>
    /// Listens on <c>dir/sdk.sock</c> and starts waiting for the launcher, whose workspace is mounted on
    /// <paramref name="workspaceInLauncher"/> in its own mount namespace; serves <paramref name="host"/>, or, when null,
    /// the one <see cref="Attach"/> names later. <paramref name="egressSocket"/>: where a network "internet" job's connections go.
    /// </summary>
    public static SdkChannel Open(string dir, string workspaceInLauncher, string workspaceInJob, string? egressSocket, ISdkHost? host, bool attachNow,
        ILogger logger, string jobId, CancellationToken ct, Func<Socket, CancellationToken, Task>? raw = null)
    {
        var path = dir + "/" + SocketName;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new SandboxException($"listening on {path} for the job's socket: {e.Message}");
        }
        var channel = new SdkChannel(path, listener, workspaceInLauncher, workspaceInJob, egressSocket, logger, jobId, ct) { _raw = raw };
        if (attachNow)
        {
            channel.Attach(host);
        }
        channel._serving = channel.ServeAsync();
        return channel;
    }

    /// <summary>Names the host that serves this job's calls (once); null: the job has none, and its connection is closed unserved.</summary>
    public void Attach(ISdkHost? host)
    {
        if (!_host.TrySetResult(host))
        {
            throw new InvalidOperationException("the SDK channel already has a host");
        }
    }

    /// <summary>True once the handshake is done (the runner holds the workspace); false if the launcher failed first or never came within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            return await _ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Free bytes left in the workspace (0: the job filled it), or -1 when the runner never got hold of it.</summary>
    public long WorkspaceFreeBytes() =>
        WorkspacePath is { } path && SandboxNative.StatVfs(path) is { } stat ? stat.FreeBytes : -1;

    private async Task ServeAsync()
    {
        Socket connection;
        try
        {
            connection = await _listener.AcceptAsync(_stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            _ready.TrySetResult(false);
            return; // the launcher never connected: it failed, and says why on stderr
        }
        finally
        {
            CloseListener();
        }
        using (connection)
        {
            var (pid, uid) = PeerOf(connection);
            if (uid != BoxBot.Linux.LinuxProcess.EffectiveUid)
            {
                _logger.LogWarning(SandboxLogEvents.SdkPeerRefused, "job {JobId}: connection from pid {Pid} uid {Uid} refused (only the launcher, as the runner's uid)",
                    _jobId, pid, uid);
                _ready.TrySetResult(false);
                return;
            }
            if (!await HandshakeAsync(connection, pid))
            {
                _ready.TrySetResult(false);
                return;
            }
            Volatile.Write(ref _connected, 1);
            _ready.TrySetResult(true);
            if (_raw is not null)
            {
                await ServeRawAsync(connection, _raw);
                return;
            }
            ISdkHost? host;
            try
            {
                host = await _host.Task.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return; // a warm job that was never used
            }
            if (host is not null && WorkspacePath is { } workspace)
            {
                var session = new SdkSession(new SdkOptions { WorkspaceHostPath = workspace, WorkspaceInJob = _workspaceInJob }, host, _logger);
                Volatile.Write(ref _session, session);
                await session.RunAsync(connection, _stop.Token);
            }
        }
    }

    /// <summary>
    /// Reads the launcher's hello (and the proxy listener it may carry), opens the workspace through the launcher's root,
    /// starts the relay, answers. The socket is blocking here, on a pool thread, bounded by <see cref="HandshakeTimeout"/>.
    /// </summary>
    private async Task<bool> HandshakeAsync(Socket connection, int pid)
    {
        try
        {
            var fd = (int)connection.Handle;
            var listener = await Task.Run(() => JobHandshake.Receive(fd, (int)HandshakeTimeout.TotalMilliseconds));
            if (listener >= 0)
            {
                var socket = new Socket(new SafeSocketHandle(listener, ownsHandle: true));
                _relay = EgressRelay.Start(socket, _egressSocket, _logger, _jobId, _stop.Token);
            }
            var path = $"/proc/{pid}/root{_workspaceInLauncher}";
            var workspace = SandboxNative.open(path, SandboxNative.O_PATH | SandboxNative.O_DIRECTORY | SandboxNative.O_CLOEXEC);
            if (workspace < 0)
            {
                throw new IOException($"opening the job's workspace {path}: {SandboxNative.LastError()}");
            }
            _workspace = new SafeFileHandle(workspace, ownsHandle: true);
            await connection.SendAsync(new[] { JobHandshake.Ready }, SocketFlags.None, _stop.Token);
            return true;
        }
        catch (Exception e) when (e is SandboxException or IOException or UnauthorizedAccessException or SocketException or OperationCanceledException)
        {
            _logger.LogWarning(SandboxLogEvents.HandshakeFailed, "job {JobId}: handshake with the launcher (pid {Pid}) failed: {Message}", _jobId, pid, e.Message);
            return false;
        }
    }

    private async Task ServeRawAsync(Socket connection, Func<Socket, CancellationToken, Task> raw)
    {
        try
        {
            await raw(connection, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The job ended or was stopped: its channel ends with it.
        }
    }

    private static (int Pid, long Uid) PeerOf(Socket connection)
    {
        Span<byte> cred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        try
        {
            return connection.GetRawSocketOption(SolSocket, SoPeerCred, cred) == 12
                ? (BitConverter.ToInt32(cred), BitConverter.ToUInt32(cred[4..]))
                : (0, -1);
        }
        catch (SocketException)
        {
            return (0, -1);
        }
    }

    /// <summary>
    /// Called once the job's process has exited: the session ends at EOF (every holder of the job's end is
    /// gone), within <paramref name="grace"/>, or is cancelled. After this the attachments are final.
    /// </summary>
    public async Task FinishAsync(TimeSpan grace)
    {
        if (Volatile.Read(ref _connected) == 0)
        {
            await _stop.CancelAsync();
        }
        try
        {
            await _serving.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync();
            await _serving;
        }
    }

    private void CloseListener()
    {
        _listener.Dispose();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
            // The job folder is removed after the job anyway.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        CloseListener();
        _relay?.Dispose();
        _workspace?.Dispose();
        if (_serving.IsCompleted)
        {
            _stop.Dispose();
        }
    }
}
