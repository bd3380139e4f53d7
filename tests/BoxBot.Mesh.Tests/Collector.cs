using System.Text;
using System.Threading.Channels;

namespace BoxBot.Mesh.Tests;

/// <summary>Runs a subscription in the background and hands its messages to the test.</summary>
internal sealed class Collector : IAsyncDisposable
{
    private readonly Channel<MeshMessage> _received = Channel.CreateUnbounded<MeshMessage>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private string? _probeSubject;

    public Collector(MeshClient client, string subject)
    {
        _loop = Task.Run(async () =>
        {
            try
            {
                await foreach (var msg in client.SubscribeAsync(subject, _stop.Token))
                {
                    await _received.Writer.WriteAsync(msg);
                }
            }
            finally
            {
                _received.Writer.TryComplete();
            }
        });
    }

    /// <summary>
    /// A subscription is registered with the broker asynchronously. Publishing probes on
    /// <paramref name="probeSubject"/> until one comes back proves the broker routes to it.
    /// </summary>
    public async Task WaitUntilLiveAsync(MeshClient publisher, string probeSubject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            await publisher.PublishAsync(probeSubject, "probe"u8.ToArray());
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            try
            {
                var msg = await _received.Reader.ReadAsync(wait.Token);
                if (msg.Subject == probeSubject)
                {
                    // Later probes may still be in flight; NextAsync skips them.
                    _probeSubject = probeSubject;
                    return;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        Assert.Fail($"subscription never received a probe on {probeSubject}");
    }

    /// <summary>Next message, or null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<MeshMessage?> NextAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var msg = await _received.Reader.ReadAsync(wait.Token);
                if (msg.Subject != _probeSubject)
                {
                    return msg;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static string Text(MeshMessage? msg) => msg is null ? "<nothing>" : Encoding.UTF8.GetString(msg.Data.Span);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
