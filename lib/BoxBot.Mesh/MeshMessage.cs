namespace BoxBot.Mesh;

/// <summary>A message received by <see cref="MeshClient.SubscribeAsync"/>.</summary>
public sealed class MeshMessage
{
    private readonly MeshClient _client;

    internal MeshMessage(MeshClient client, string subject, ReadOnlyMemory<byte> data, string? replyTo)
    {
        _client = client;
        Subject = subject;
        Data = data;
        ReplyTo = replyTo;
    }

    public string Subject { get; }

    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Reply subject when the sender made a request; null for plain publishes.</summary>
    public string? ReplyTo { get; }

    /// <summary>Answers a request. Throws <see cref="InvalidOperationException"/> for a message that has no reply subject.</summary>
    public ValueTask ReplyAsync(ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        if (ReplyTo is null)
        {
            throw new InvalidOperationException($"The message on '{Subject}' was not a request: it has no reply subject.");
        }

        return _client.PublishCoreAsync(ReplyTo, payload, ct);
    }
}
