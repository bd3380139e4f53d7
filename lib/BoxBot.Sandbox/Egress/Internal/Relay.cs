using System.Buffers;
using System.Net.Sockets;

namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>
/// Copies bytes both ways between the client and the origin. End of stream on one side becomes a half-close
/// (shutdown of sending) on the other, so a client that finished its request still gets the whole answer; an
/// error on either side, the idle timeout or the proxy stopping ends both.
/// </summary>
internal static class Relay
{
    private const int ChunkBytes = 16 * 1024;

    /// <param name="clientSocket">The client's socket when there is one, for the half-close; without it, the
    /// origin's end of stream ends the relay.</param>
    /// <param name="endWithOrigin">Plain HTTP: once the origin has answered and closed, the exchange is over, even
    /// if the client keeps its side open.</param>
    /// <returns>Bytes to the origin, bytes back, and why it ended.</returns>
    public static async Task<(long Up, long Down, string Ended)> RunAsync(
        Stream client, Socket? clientSocket, Socket origin, bool endWithOrigin, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        tunnel.CancelAfter(idleTimeout);
        using var originStream = new NetworkStream(origin, ownsSocket: false);
        var state = new State(tunnel, idleTimeout);
        var up = PumpAsync(client, originStream, () => origin.Shutdown(SocketShutdown.Send), state, endWhenDone: false);
        var down = PumpAsync(originStream, client, () => clientSocket?.Shutdown(SocketShutdown.Send), state,
            endWhenDone: endWithOrigin || clientSocket is null);
        var upBytes = await up;
        var downBytes = await down;
        return (upBytes, downBytes, cancellationToken.IsCancellationRequested ? "stopping" : state.Ended ?? "closed");
    }

    private sealed class State(CancellationTokenSource tunnel, TimeSpan idleTimeout)
    {
        private string? _ended;

        public CancellationTokenSource Tunnel { get; } = tunnel;
        public TimeSpan IdleTimeout { get; } = idleTimeout;

        /// <summary>Null while both directions end cleanly; else what ended the tunnel first.</summary>
        public string? Ended => Volatile.Read(ref _ended);

        public async Task EndAsync(string why)
        {
            Interlocked.CompareExchange(ref _ended, why, null);
            await Tunnel.CancelAsync();
        }
    }

    // Returns the bytes copied in this direction.
    private static async Task<long> PumpAsync(Stream from, Stream to, Action halfClose, State state, bool endWhenDone)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var token = state.Tunnel.Token;
        long total = 0;
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer.AsMemory(0, ChunkBytes), token);
                if (n == 0)
                {
                    halfClose();
                    if (endWhenDone)
                    {
                        await state.EndAsync("answered");
                    }
                    return total;
                }
                // Traffic either way keeps the tunnel alive: CancelAfter restarts the one timer both directions share.
                state.Tunnel.CancelAfter(state.IdleTimeout);
                await to.WriteAsync(buffer.AsMemory(0, n), token);
                total += n;
                state.Tunnel.CancelAfter(state.IdleTimeout);
            }
        }
        catch (OperationCanceledException)
        {
            // Nobody ended it on purpose (the proxy stopping shows in the caller's token): the idle timer fired.
            await state.EndAsync("idle");
            return total;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // One side broke: the other direction has nothing left to do either.
            await state.EndAsync("reset");
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
