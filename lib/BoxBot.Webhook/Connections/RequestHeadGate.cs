using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace BoxBot.Webhook.Connections;

/// <summary>
/// The first stage of a new connection: it gets no slot (see <see cref="ConnectionGovernor"/>) until its first request
/// head has arrived whole. The head is looked at, never consumed, so Kestrel then reads it as if nothing had happened.
/// A slowloris, headers a byte at a time, therefore never holds a slot: it waits here, holding only its socket and the
/// bytes it sent, until the header timeout closes it; and when more connections are reading than
/// <see cref="Capacity"/>, the one reading longest is closed for the newcomer. Whoever sends real deliveries here
/// (Meta's servers, or the proxy on this box that already holds their request) sends the head at once.
/// </summary>
internal sealed class RequestHeadGate(int capacity, int maxHeadBytes, TimeSpan timeout, WebhookCounters counters)
{
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private readonly Lock _lock = new();
    private readonly LinkedList<ConnectionContext> _reading = new();

    /// <summary>Connections that may be reading their first request head at once.</summary>
    public int Capacity { get; } = capacity;

    public int Reading
    {
        get
        {
            lock (_lock)
            {
                return _reading.Count;
            }
        }
    }

    /// <summary>
    /// True once <paramref name="connection"/>'s first request head is in (or the client ended its side, or the head is
    /// larger than the limit: Kestrel then answers or closes as it does); false when the connection is to be closed
    /// (the header timeout passed, or it was the one reading longest when the stage was full).
    /// </summary>
    public async Task<bool> WaitForHeadAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ConnectionContext? evicted = null;
        LinkedListNode<ConnectionContext> node;
        lock (_lock)
        {
            if (_reading.Count >= Capacity && _reading.First is { } oldest)
            {
                _reading.RemoveFirst();
                evicted = oldest.Value;
            }
            node = _reading.AddLast(connection);
        }
        if (evicted is not null)
        {
            counters.EvictConnection();
            evicted.Abort(new ConnectionAbortedException("closed to make room: still sending its first request head"));
        }
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            deadline.CancelAfter(timeout);
            var input = connection.Transport.Input;
            long scanned = 0;
            while (true)
            {
                var read = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (read.IsCompleted || read.IsCanceled || buffer.Length >= maxHeadBytes || Contains(buffer, ref scanned))
                {
                    // Nothing consumed and nothing examined: Kestrel's first read returns these bytes at once.
                    input.AdvanceTo(buffer.Start);
                    return !read.IsCanceled;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            if (!connection.ConnectionClosed.IsCancellationRequested)
            {
                counters.CloseIdleConnection();
            }
            return false;
        }
        catch (Exception e) when (e is ConnectionAbortedException or ConnectionResetException or IOException or InvalidOperationException)
        {
            return false; // closed under it (evicted, or the client went away)
        }
        finally
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _reading.Remove(node);
                }
            }
        }
    }

    /// <summary>Whether the head's blank line is in <paramref name="buffer"/>, searching only what is new since the last look.</summary>
    private static bool Contains(ReadOnlySequence<byte> buffer, ref long scanned)
    {
        var from = Math.Max(0, scanned - (HeadEnd.Length - 1));
        var reader = new SequenceReader<byte>(buffer.Slice(from));
        scanned = buffer.Length;
        return reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: false);
    }
}
