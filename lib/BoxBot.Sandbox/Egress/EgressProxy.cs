using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using BoxBot.Sandbox.Egress.Internal;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Egress;

/// <summary>
/// The only way a sandbox job reaches the internet: a small HTTP/1.1 proxy (CONNECT tunnels, and plain HTTP in
/// absolute form) that connects only to addresses <see cref="EgressOptions.IsAllowed"/> accepts, by default
/// public ones (<see cref="PublicAddress"/>), so a job can never reach the box itself, the LAN or a provider's
/// metadata service. Jobs have no network of their own; the runner relays their 127.0.0.1:3128 to this proxy's
/// Unix socket. One request per connection; every refusal is answered with a status and a one-line reason.
/// </summary>
public sealed partial class EgressProxy
{
    // After a refusal, how long and how much unread input is drained before closing (see RefuseAsync).
    private static readonly TimeSpan LingerLimit = TimeSpan.FromSeconds(2);
    private const int LingerBytes = 256 * 1024;

    private readonly EgressOptions _options;
    private readonly ILogger _log;
    private int _active;

    public EgressProxy(EgressOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _options = options;
        _log = logger;
    }

    /// <summary>Connections being served now, refused ones included until their answer is written.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>
    /// Accepts on <paramref name="listener"/> (already listening; the caller owns it) and serves each connection
    /// until <paramref name="cancellationToken"/> fires; then stops accepting, ends the open connections and
    /// returns once they are closed. A failing client never ends the loop.
    /// </summary>
    public async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var running = new ConcurrentDictionary<Task, bool>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket accepted;
                try
                {
                    accepted = await listener.AcceptAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (SocketException e)
                {
                    // Out of descriptors or memory for a moment: back off instead of spinning, and keep serving.
                    EgressLog.AcceptFailed(_log, e.Message);
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    continue;
                }
                var connection = ServeAcceptedAsync(accepted, cancellationToken);
                // Added before the removal is registered, so a connection that finishes at once is removed too.
                running.TryAdd(connection, true);
                _ = connection.ContinueWith(done => running.TryRemove(done, out _), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        finally
        {
            await Task.WhenAll(running.Keys);
        }
    }

    /// <summary>
    /// Serves one client connection: reads one request, answers it or relays it, and returns when the exchange is
    /// over. Never throws for anything the client or the origin does. The caller disposes <paramref name="client"/>;
    /// when it is a <see cref="NetworkStream"/> the origin's end of stream is passed on as a half-close.
    /// </summary>
    public async Task HandleAsync(Stream client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var clientSocket = (client as NetworkStream)?.Socket;
        var counted = true;
        try
        {
            if (Interlocked.Increment(ref _active) > _options.MaxConnections)
            {
                // Not served, so not counted: a burst of refused clients must not keep the next one out.
                Interlocked.Decrement(ref _active);
                counted = false;
                await RefuseAsync(client, clientSocket, new ProxyRefusal(503, $"the egress proxy is serving its limit of {_options.MaxConnections} connections; try again"),
                    "-", "(not read)", cancellationToken);
                return;
            }
            await ServeRequestAsync(client, clientSocket, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The proxy is stopping.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            EgressLog.ClientGone(_log, e.Message);
        }
        catch (Exception e)
        {
            // A bug here must cost one connection, not the proxy.
            EgressLog.Failed(_log, e);
        }
        finally
        {
            if (counted)
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }

    private async Task ServeAcceptedAsync(Socket accepted, CancellationToken cancellationToken)
    {
        // Off the accept loop at once: nothing a client does may hold up the next accept.
        await Task.Yield();
        await using var stream = new NetworkStream(accepted, ownsSocket: true);
        await HandleAsync(stream, cancellationToken);
    }

    private async Task ServeRequestAsync(Stream client, Socket? clientSocket, CancellationToken cancellationToken)
    {
        var buffer = new byte[_options.MaxHeaderBytes];
        var (method, target) = ("-", "(no request line)");
        int headLength, read;
        ProxyRequest request;
        try
        {
            using (var headDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                headDeadline.CancelAfter(_options.HeaderTimeout);
                try
                {
                    (headLength, read) = await RequestHead.ReadAsync(client, buffer, headDeadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    (method, target) = RequestHead.FirstLine(buffer);
                    throw ProxyRefusal.BadRequest($"request head not complete within {_options.HeaderTimeout.TotalSeconds:0.###} s");
                }
                catch (ProxyRefusal)
                {
                    (method, target) = RequestHead.FirstLine(buffer);
                    throw;
                }
            }
            if (headLength == 0)
            {
                return; // closed without a request: nothing to answer
            }
            (method, target) = RequestHead.FirstLine(buffer.AsSpan(0, headLength));
            request = ProxyRequest.Parse(buffer.AsSpan(0, headLength));
        }
        catch (ProxyRefusal refusal)
        {
            await RefuseAsync(client, clientSocket, refusal, method, target, cancellationToken);
            return;
        }

        Socket origin;
        System.Net.IPAddress address;
        try
        {
            (origin, address) = await ConnectAsync(request, cancellationToken);
        }
        catch (ProxyRefusal refusal)
        {
            await RefuseAsync(client, clientSocket, refusal, method, target, cancellationToken);
            return;
        }

        using (origin)
        {
            var clock = Stopwatch.StartNew();
            EgressLog.Opened(_log, request.Method, request.Host, request.Port, address.ToString());
            if (request.IsConnect)
            {
                await client.WriteAsync(ProxyResponse.Established, cancellationToken);
            }
            else
            {
                await origin.SendAsync(request.ForwardedHead(), SocketFlags.None, cancellationToken);
            }
            // Bytes that came with the head: a request body, or a TLS ClientHello sent without waiting for the 200.
            if (read > headLength)
            {
                await origin.SendAsync(buffer.AsMemory(headLength, read - headLength), SocketFlags.None, cancellationToken);
            }
            var (up, down, ended) = await Relay.RunAsync(client, clientSocket, origin, endWithOrigin: !request.IsConnect, _options.IdleTimeout, cancellationToken);
            EgressLog.Closed(_log, request.Host, request.Port, ended, clock.Elapsed.TotalSeconds, up + (read - headLength), down);
        }
    }

    private async Task RefuseAsync(Stream client, Socket? clientSocket, ProxyRefusal refusal, string method, string target, CancellationToken cancellationToken)
    {
        EgressLog.Refused(_log, refusal.Status, method, target, refusal.Message);
        // A client that does not read its answer must not hold the connection: writing and lingering get a deadline.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.HeaderTimeout < LingerLimit ? _options.HeaderTimeout : LingerLimit);
        try
        {
            await client.WriteAsync(ProxyResponse.Refusal(refusal.Status, refusal.Message), deadline.Token);
            await client.FlushAsync(deadline.Token);
            if (clientSocket is null)
            {
                return;
            }
            // Closing a socket with unread input resets the connection, and the client may lose the answer with it
            // (a POST refused before its body was read, a flood of headers). So end our side, then read and drop
            // what is still coming, within limits, before closing.
            clientSocket.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            for (var drained = 0; drained < LingerBytes;)
            {
                var n = await client.ReadAsync(sink, deadline.Token);
                if (n == 0)
                {
                    break;
                }
                drained += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
