using System.Net.Sockets;
using BoxBot.Sandbox.Sdk;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// One job's SDK channel on the runner's side: a Unix socket listening in the job's folder (0700, root),
/// which accepts exactly one connection, from root (the launcher, before it drops privileges and before
/// pivot_root takes the folder out of reach), and serves it with an <see cref="SdkSession"/> until the job
/// closes it. The listener is closed and its file removed as soon as that one connection arrives. A warm
/// job's channel is opened before its host is known; requests are served once <see cref="Attach"/> names it.
/// </summary>
internal sealed class SdkChannel : IDisposable
{
    public const string SocketName = "sdk.sock";

    /// <summary>sun_path is 108 bytes with its terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    private readonly Socket _listener;
    private readonly SdkOptions _options;
    private readonly TaskCompletionSource<SdkSession?> _session = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly string _jobId;
    private readonly CancellationTokenSource _stop;
    private Task _serving = Task.CompletedTask;
    private int _connected;

    private SdkChannel(string path, Socket listener, SdkOptions options, ILogger logger, string jobId, CancellationToken ct)
    {
        SocketPath = path;
        _listener = listener;
        _options = options;
        _logger = logger;
        _jobId = jobId;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    public string SocketPath { get; }

    public int Calls => _session.Task.IsCompletedSuccessfully ? _session.Task.Result?.Calls ?? 0 : 0;

    public IReadOnlyList<SdkAttachment> Attachments => _session.Task.IsCompletedSuccessfully ? _session.Task.Result?.Attachments ?? [] : [];

    /// <summary>Listens on <c>dir/sdk.sock</c> and starts waiting for the launcher; serves <paramref name="host"/>, or, when null, the one <see cref="Attach"/> names later.</summary>
    public static SdkChannel Open(string dir, string workspaceHost, string workspaceInJob, ISdkHost? host, ILogger logger, string jobId, CancellationToken ct)
    {
        var path = dir + "/" + SocketName;
        var options = new SdkOptions { WorkspaceHostPath = workspaceHost, WorkspaceInJob = workspaceInJob };
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new SandboxException($"listening on {path} for the job's SDK channel: {e.Message}");
        }
        var channel = new SdkChannel(path, listener, options, logger, jobId, ct);
        if (host is not null)
        {
            channel.Attach(host);
        }
        channel._serving = channel.ServeAsync();
        return channel;
    }

    /// <summary>Names the host that serves this job's calls (once); null: the job has none, and its connection is closed unserved.</summary>
    public void Attach(ISdkHost? host)
    {
        if (!_session.TrySetResult(host is null ? null : new SdkSession(_options, host, _logger)))
        {
            throw new InvalidOperationException("the SDK channel already has a host");
        }
    }

    private async Task ServeAsync()
    {
        Socket connection;
        try
        {
            connection = await _listener.AcceptAsync(_stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return; // the launcher never connected: it failed, and says why on stderr
        }
        finally
        {
            CloseListener();
        }
        using (connection)
        {
            var (pid, uid) = PeerOf(connection);
            if (uid != 0)
            {
                _logger.LogWarning(SandboxLogEvents.SdkPeerRefused, "job {JobId}: SDK connection from pid {Pid} uid {Uid} refused (only the launcher, as root)",
                    _jobId, pid, uid);
                return;
            }
            Volatile.Write(ref _connected, 1);
            SdkSession? session;
            try
            {
                session = await _session.Task.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return; // a warm job that was never used
            }
            if (session is not null)
            {
                await session.RunAsync(connection, _stop.Token);
            }
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
        if (_serving.IsCompleted)
        {
            _stop.Dispose();
        }
    }
}
