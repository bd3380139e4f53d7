using BoxBot.Contracts;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Webhook;

/// <summary>
/// Hands spooled events to the agent (<c>inbound.whatsapp</c> on <c>agent.sock</c>), oldest first, and deletes each
/// one once the agent acknowledges it. While the agent is down or refuses, it retries with growing pauses (up to
/// <see cref="MaxBackoff"/>); nothing is dropped. Because batches go oldest first and the agent acknowledges a
/// prefix, each sender's messages reach the agent in the order WhatsApp delivered them.
/// </summary>
public sealed class Forwarder : IAsyncDisposable
{
    public const int BatchSize = 100;
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan IdleWait = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly Spool _spool;
    private readonly string _agentSocket;
    private readonly WebhookCounters _counters;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private JsonRpcClient? _agent;
    private bool _failing;

    public Forwarder(Spool spool, string agentSocket, WebhookCounters counters, ILogger log)
    {
        _spool = spool;
        _agentSocket = agentSocket;
        _counters = counters;
        _log = log;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>"ok", or why the last attempt failed (for status).</summary>
    public string State { get; private set; } = "ok";

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = MinBackoff;
        var lastSweep = DateTimeOffset.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (DateTimeOffset.UtcNow - lastSweep > TimeSpan.FromHours(1))
                {
                    lastSweep = DateTimeOffset.UtcNow;
                    _spool.ForgetOldKeys();
                }
                var batch = _spool.Peek(BatchSize);
                if (batch.Count == 0)
                {
                    await _spool.WaitForEventsAsync(IdleWait, stop);
                    continue;
                }
                var acked = await SendAsync(batch, stop);
                _spool.Delete(acked);
                _counters.AddForwarded(acked.Count);
                if (acked.Count == 0)
                {
                    throw new ForwardException("the agent acknowledged none of the events");
                }
                Recovered();
                backoff = MinBackoff;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IpcException or RpcException or ForwardException or IOException or Microsoft.Data.Sqlite.SqliteException)
            {
                await DropConnectionAsync();
                Failed(e, backoff);
                try
                {
                    await Task.Delay(backoff, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
        await DropConnectionAsync();
    }

    private async Task<IReadOnlyList<string>> SendAsync(IReadOnlyList<WhatsAppEvent> batch, CancellationToken stop)
    {
        _agent ??= await JsonRpcClient.ConnectAsync(_agentSocket, stop);
        var ack = await _agent.CallAsync(WhatsAppMethods.Inbound, new WhatsAppInboundBatch { Events = batch },
            WhatsAppJsonContext.Default.WhatsAppInboundBatch, WhatsAppJsonContext.Default.WhatsAppInboundAck, CallTimeout, stop);
        // Only keys of this batch count: an agent cannot make the spool delete anything else.
        var sent = batch.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        return ack.Acked.Where(sent.Contains).Distinct(StringComparer.Ordinal).ToList();
    }

    private void Failed(Exception e, TimeSpan retryIn)
    {
        State = "retrying: " + e.Message;
        if (!_failing)
        {
            _failing = true;
            _log.LogWarning("cannot hand {Count} spooled events to the agent ({Reason}); they stay in the spool, retrying with backoff up to {Max} s",
                _spool.Count, e.Message, (int)MaxBackoff.TotalSeconds);
        }
        else
        {
            _log.LogDebug("still cannot reach the agent ({Reason}); next try in {Ms} ms", e.Message, (int)retryIn.TotalMilliseconds);
        }
    }

    private void Recovered()
    {
        if (_failing)
        {
            _failing = false;
            _log.LogInformation("the agent takes events again; {Count} still spooled", _spool.Count);
        }
        State = "ok";
    }

    private async Task DropConnectionAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
            _agent = null;
        }
    }

    /// <summary>Stops forwarding (what is still spooled stays for the next start).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private sealed class ForwardException(string message) : Exception(message);
}
