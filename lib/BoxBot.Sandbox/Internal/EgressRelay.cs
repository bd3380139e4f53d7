using System.Net.Sockets;
using BoxBot.Sandbox.Egress.Internal;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// A network "internet" job's only way out: the listening socket its launcher made on 127.0.0.1 in the job's own
/// network namespace, accepted here, in the runner, and each connection piped to the egress proxy's Unix socket
/// (docs/egress.md), which decides where it may go. The runner itself has no network; the job has nothing but this.
/// At most <see cref="MaxConnections"/> at once per job; everything closes with the job.
/// </summary>
internal sealed class EgressRelay : IDisposable
{
    public const int MaxConnections = 32;

    private readonly Socket _listener;
    private readonly string? _egressSocket;
    private readonly ILogger _logger;
    private readonly string _jobId;
    private readonly CancellationTokenSource _stop;
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);

    private EgressRelay(Socket listener, string? egressSocket, ILogger logger, string jobId, CancellationToken ct)
    {
        _listener = listener;
        _egressSocket = egressSocket;
        _logger = logger;
        _jobId = jobId;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    public static EgressRelay Start(Socket listener, string? egressSocket, ILogger logger, string jobId, CancellationToken ct)
    {
        var relay = new EgressRelay(listener, egressSocket, logger, jobId, ct);
        _ = relay.AcceptLoopAsync();
        return relay;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(_stop.Token);
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(Socket client)
    {
        try
        {
            using (client)
            {
                if (_egressSocket is null)
                {
                    await RefuseAsync(client, "this sandbox has no egress proxy configured");
                    return;
                }
                using var upstream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await upstream.ConnectAsync(new UnixDomainSocketEndPoint(_egressSocket), _stop.Token);
                }
                catch (SocketException e)
                {
                    // .NET reports a missing socket file as "Cannot assign requested address"; say what it is.
                    var why = !Path.Exists(_egressSocket) ? $"there is no socket {_egressSocket}: the egress proxy is not running (boxbot-egress.socket)"
                        : e.SocketErrorCode == SocketError.ConnectionRefused ? $"nothing listens on {_egressSocket}: the egress proxy is not running (boxbot-egress.socket)"
                        : $"{_egressSocket}: {e.Message}";
                    _logger.LogWarning(SandboxLogEvents.EgressUnreachable, "job {JobId}: the egress proxy is not reachable: {Why}", _jobId, why);
                    await RefuseAsync(client, Path.Exists(_egressSocket) ? "the box's egress proxy does not answer (the sandbox's log says why)"
                        : "the box's egress proxy is not running (boxbot-egress.socket)");
                    return;
                }
                // The egress proxy's own pipe: both directions, each half-closed on its own end of stream, a reset ends both.
                // No idle limit here: the proxy applies its own.
                using var clientStream = new NetworkStream(client, ownsSocket: false);
                await Relay.RunAsync(clientStream, client, upstream, endWithOrigin: false, Timeout.InfiniteTimeSpan, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The job ended or one side reset: nothing to report.
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task RefuseAsync(Socket client, string why) =>
        await client.SendAsync(ProxyResponse.Refusal(502, why), SocketFlags.None, _stop.Token);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
