using System.Runtime.CompilerServices;
using NATS.Client.Core;

namespace BoxBot.Mesh;

/// <summary>A live subscription (<see cref="MeshClient.SubscribeLiveAsync"/>); disposing it unsubscribes.</summary>
public sealed class MeshSubscription : IAsyncDisposable
{
    private readonly MeshClient _client;
    private readonly INatsSub<ReadOnlyMemory<byte>> _sub;

    internal MeshSubscription(MeshClient client, INatsSub<ReadOnlyMemory<byte>> sub)
    {
        _client = client;
        _sub = sub;
    }

    public string Subject => _sub.Subject;

    /// <summary>The messages, until the subscription ends or <paramref name="ct"/> is cancelled (which ends the sequence quietly).</summary>
    public async IAsyncEnumerable<MeshMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            NatsMsg<ReadOnlyMemory<byte>> msg;
            try
            {
                if (!await _sub.Msgs.WaitToReadAsync(ct).ConfigureAwait(false))
                {
                    yield break;
                }
                if (!_sub.Msgs.TryRead(out msg))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                yield break;
            }
            yield return new MeshMessage(_client, msg.Subject, msg.Data, msg.ReplyTo);
        }
    }

    public ValueTask DisposeAsync() => _sub.DisposeAsync();
}
