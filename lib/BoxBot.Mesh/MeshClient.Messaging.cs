using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace BoxBot.Mesh;

public sealed partial class MeshClient
{
    // Raw bytes in and out: no serializer lookup, no reflection, nothing for the trimmer to miss.
    private static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    /// <summary>Publishes <paramref name="payload"/> on <paramref name="subject"/> (no wildcards).</summary>
    /// <remarks>
    /// A publish the broker's permissions refuse does not fail here: NATS reports it asynchronously,
    /// and this client logs it as <see cref="MeshLogEvents.PermissionDenied"/>. The message is not delivered.
    /// </remarks>
    public ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        CheckPublishSubject(subject);
        return PublishCoreAsync(subject, payload, ct);
    }

    /// <summary>
    /// Sends a request and waits for the first reply. Throws <see cref="MeshException"/> with
    /// <see cref="MeshErrorKind.NoResponders"/> when nobody listens on <paramref name="subject"/>,
    /// or <see cref="MeshErrorKind.Timeout"/> when no reply comes within <paramref name="timeout"/>.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> RequestAsync(string subject, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken ct = default)
    {
        CheckPublishSubject(subject);
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "Request timeout must be positive.");
        }

        ThrowIfDisposed();
        NatsMsg<ReadOnlyMemory<byte>> reply;
        try
        {
            reply = await _connection.RequestAsync(
                subject,
                payload,
                requestSerializer: Raw,
                replySerializer: Raw,
                replyOpts: new NatsSubOpts { Timeout = timeout },
                cancellationToken: ct).ConfigureAwait(false);
        }
        catch (NatsNoRespondersException ex)
        {
            throw NoResponders(subject, ex);
        }
        catch (NatsNoReplyException ex)
        {
            throw new MeshException(MeshErrorKind.Timeout, $"No reply on mesh subject '{subject}' within {timeout.TotalMilliseconds:0} ms.", ex);
        }
        catch (NatsException ex)
        {
            throw new MeshException(MeshErrorKind.Failed, $"Mesh request on '{subject}' failed: {ex.Message}", ex);
        }

        if (reply.HasNoResponders)
        {
            throw NoResponders(subject, null);
        }

        if (reply.Error is { } error)
        {
            throw new MeshException(MeshErrorKind.Failed, $"Mesh reply on '{subject}' was unusable: {error.Message}", error);
        }

        return reply.Data;
    }

    /// <summary>
    /// Subscribes to <paramref name="subject"/> (wildcards allowed) until <paramref name="ct"/> is cancelled,
    /// the client is disposed, or the broker ends the subscription. Cancellation ends the sequence quietly.
    /// </summary>
    public async IAsyncEnumerable<MeshMessage> SubscribeAsync(string subject, [EnumeratorCancellation] CancellationToken ct)
    {
        CheckSubscribeSubject(subject);
        ThrowIfDisposed();
        var messages = _connection.SubscribeAsync(subject, serializer: Raw, cancellationToken: ct).GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                NatsMsg<ReadOnlyMemory<byte>> msg;
                try
                {
                    if (!await messages.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    msg = messages.Current;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    yield break;
                }
                catch (NatsException ex)
                {
                    throw new MeshException(MeshErrorKind.Failed, $"Mesh subscription to '{subject}' failed: {ex.Message}", ex);
                }

                yield return new MeshMessage(this, msg.Subject, msg.Data, msg.ReplyTo);
            }
        }
        finally
        {
            await messages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Subscribes to <paramref name="subject"/> and returns once the broker has the subscription (a ping round trip
    /// after it), so what is published from then on reaches it. A subscription the broker's permissions refuse returns
    /// normally and never delivers; <see cref="PermissionDenied"/> says so.
    /// </summary>
    public async Task<MeshSubscription> SubscribeLiveAsync(string subject, CancellationToken ct = default)
    {
        CheckSubscribeSubject(subject);
        ThrowIfDisposed();
        try
        {
            var sub = await _connection.SubscribeCoreAsync(subject, serializer: Raw, cancellationToken: ct).ConfigureAwait(false);
            await _connection.PingAsync(ct).ConfigureAwait(false);
            return new MeshSubscription(this, sub);
        }
        catch (NatsException ex)
        {
            throw new MeshException(MeshErrorKind.Failed, $"Mesh subscription to '{subject}' failed: {ex.Message}", ex);
        }
    }

    /// <summary>A round trip to the broker: everything this client sent before has been processed when it returns.</summary>
    public async Task PingAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        await _connection.PingAsync(ct).ConfigureAwait(false);
    }

    internal async ValueTask PublishCoreAsync(string subject, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        ThrowIfDisposed();
        try
        {
            await _connection.PublishAsync(subject, payload, serializer: Raw, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw new MeshException(MeshErrorKind.Failed, $"Mesh publish on '{subject}' failed: {ex.Message}", ex);
        }
    }

    private MeshException NoResponders(string subject, Exception? inner)
    {
        _logger.LogDebug(MeshLogEvents.ServerError, "no responders on {Subject}", subject);
        return new MeshException(MeshErrorKind.NoResponders, $"No responders on mesh subject '{subject}': nothing subscribes to it (is the device connected?).", inner);
    }

    private static void CheckPublishSubject(string subject)
    {
        CheckSubscribeSubject(subject);
        if (subject.Contains('*') || subject.Contains('>'))
        {
            throw new ArgumentException($"Mesh subject '{subject}' contains a wildcard; publish and request need a concrete subject.", nameof(subject));
        }
    }

    private static void CheckSubscribeSubject(string subject)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        foreach (var c in subject)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new ArgumentException($"Mesh subject '{subject}' contains whitespace or a control character.", nameof(subject));
            }
        }

        if (subject.StartsWith('.') || subject.EndsWith('.') || subject.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Mesh subject '{subject}' has an empty token.", nameof(subject));
        }
    }
}
