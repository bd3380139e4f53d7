using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Internal;

/// <summary>
/// One accepted client: reads frames one after another, runs requests concurrently up to the
/// per-connection limit, and serializes replies through a write lock.
/// </summary>
internal sealed partial class ServerConnection
{
    public const string CancelMethod = "$/cancel";

    private readonly JsonRpcServer _server;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    // Not linked to any other source: the server aborts connections one by one, so nothing here outlives the connection.
    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, InFlightCall> _inFlight = new();

    public ServerConnection(JsonRpcServer server, Socket socket, PeerCredentials peer)
    {
        _server = server;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _slots = new SemaphoreSlim(server.Options.MaxConcurrentRequestsPerConnection);
        Peer = peer;
    }

    public PeerCredentials Peer { get; }

    /// <summary>Closes the connection; in-flight handlers see their tokens cancelled.</summary>
    public void Abort()
    {
        // CancelAsync: handler callbacks must not run on whichever thread decided to abort.
        _ = _cts.CancelAsync();
    }

    public async Task RunAsync()
    {
        var ct = _cts.Token;
        var reason = "server closed it";
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var frame = await Framing.ReadAsync(_stream, _server.Options.FrameReadTimeout, ct).ConfigureAwait(false);
                JsonDocument? document = null;
                switch (frame.Status)
                {
                    case FrameStatus.EndOfStream:
                        reason = "peer closed it";
                        return;
                    case FrameStatus.Truncated:
                        reason = "peer closed it in the middle of a frame";
                        return;
                    case FrameStatus.TooLarge:
                        reason = "frame too large";
                        Log.FrameTooLarge(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid, frame.Length, Framing.MaxPayload);
                        return;
                    case FrameStatus.TimedOut:
                        reason = "frame read timed out";
                        Log.FrameReadTimedOut(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid, _server.Options.FrameReadTimeout);
                        return;
                }
                try
                {
                    document = Envelope.ParseDocument(frame.Payload);
                }
                catch (JsonException)
                {
                    Log.ParseError(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid);
                }
                finally
                {
                    frame.Dispose();
                }

                if (document is null)
                {
                    await SendAsync(Envelope.ErrorFrame(RequestId.Null, RpcErrorCodes.ParseError, "parse error: the frame is not valid UTF-8 JSON")).ConfigureAwait(false);
                    continue;
                }
                var handedOff = false;
                try
                {
                    handedOff = await AcceptRequestAsync(document, ct).ConfigureAwait(false);
                }
                finally
                {
                    if (!handedOff)
                    {
                        document.Dispose();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            reason = "I/O error: " + ex.Message;
        }
        catch (Exception ex)
        {
            // A bug here must cost one connection, never the server.
            reason = "unexpected error";
            Log.ConnectionFailed(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid, ex);
        }
        finally
        {
            // A client that goes away no longer wants its answers: cancel what it started.
            await _cts.CancelAsync().ConfigureAwait(false);
            await _stream.DisposeAsync().ConfigureAwait(false);
            Log.ConnectionClosed(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid, reason);
        }
    }

    /// <summary>Checks one request and starts it. Returns true when the started call now owns <paramref name="document"/>.</summary>
    private async Task<bool> AcceptRequestAsync(JsonDocument document, CancellationToken ct)
    {
        var peer = Peer;
        if (!Envelope.TryReadRequest(document.RootElement, out var request, out var error))
        {
            Log.InvalidRequest(_server.Logger, peer.Pid, peer.Uid, peer.Gid, error.Message);
            await SendAsync(Envelope.ErrorFrame(error.Id, error.Code, error.Message)).ConfigureAwait(false);
            return false;
        }
        if (request.Method == CancelMethod)
        {
            CancelCall(request.Params);
            return false;
        }
        if (!_server.IsAcceptingRequests)
        {
            await ReplyErrorAsync(request, RpcErrorCodes.ShuttingDown, "the server is shutting down; try again later").ConfigureAwait(false);
            return false;
        }
        if (!_server.TryGetMethod(request.Method, out var entry))
        {
            Log.MethodNotFound(_server.Logger, request.Method, peer.Pid, peer.Uid, peer.Gid);
            await ReplyErrorAsync(request, RpcErrorCodes.MethodNotFound, $"method not found: {Truncate(request.Method)}").ConfigureAwait(false);
            return false;
        }
        if (!entry.Policy.Allows(peer))
        {
            Log.CallRefused(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, entry.Policy.ToString());
            await ReplyErrorAsync(request, RpcErrorCodes.Unauthorized, $"caller uid {peer.Uid} may not call {entry.Name}").ConfigureAwait(false);
            return false;
        }

        // Back-pressure: with every slot busy we stop reading, and the client's writes block.
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        var call = new InFlightCall(CancellationTokenSource.CreateLinkedTokenSource(ct, _server.AbortRequestsToken));
        if (request.Id?.Key is { } key && !_inFlight.TryAdd(key, call))
        {
            _slots.Release();
            call.Cts.Dispose();
            await ReplyErrorAsync(request, RpcErrorCodes.InvalidRequest, $"id {Truncate(request.Id.Value.RawJson)} is already used by a request in flight on this connection").ConfigureAwait(false);
            return false;
        }
        _server.Tracker.Enter();
        _ = Task.Run(() => RunCallAsync(entry, request, document, call), CancellationToken.None);
        return true;
    }

    private void CancelCall(JsonElement? parameters)
    {
        if (parameters is { } p && p.TryGetProperty("id"u8, out var idElement)
            && RequestId.From(idElement)?.Key is { } key && _inFlight.TryGetValue(key, out var call))
        {
            call.CancelledByCaller = true;
            try
            {
                _ = call.Cts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The call finished in the meantime.
            }
        }
    }

    private Task ReplyErrorAsync(in Request request, int code, string message) =>
        request.Id is { } id ? SendAsync(Envelope.ErrorFrame(id, code, message)) : Task.CompletedTask;

    private static string Truncate(string text) => text.Length <= 100 ? text : text[..100] + "...";

    /// <summary>Writes one whole frame. A reply that cannot be written within the frame timeout closes the connection.</summary>
    private async Task SendAsync(byte[] frame)
    {
        var ct = _cts.Token;
        try
        {
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(_server.Options.FrameReadTimeout);
                await _stream.WriteAsync(frame, timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Connection already closing.
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            Log.WriteFailed(_server.Logger, Peer.Pid, Peer.Uid, Peer.Gid, ex is OperationCanceledException ? "timed out" : ex.Message);
            Abort();
        }
    }

    private sealed class InFlightCall(CancellationTokenSource cts)
    {
        public CancellationTokenSource Cts { get; } = cts;

        public volatile bool CancelledByCaller;
    }
}
