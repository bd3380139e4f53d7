using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BoxBot.Bench.Webhook;

/// <summary>One attack: forged requests from wrk on this many connections, or a slowloris on this many.</summary>
internal sealed record FloodScenario(string Name, int ForgedConnections, int SlowConnections);

/// <summary>What the valid client saw during one attack, and what the webhook did.</summary>
internal sealed record FloodResult(FloodScenario Scenario, int Sent, int Failed, double P50Ms, double P99Ms, double MaxMs, long Stored, long Duplicates,
    long RssGrowthKiB, long Evicted, long IdleClosed, long AttackRequests, string FirstFailure);

/// <summary>
/// The webhook under attack while a real sender keeps delivering: valid signed deliveries at a steady rate, each on a
/// fresh connection (as Meta may), timed from when each was due (so a stall counts against every request it held up),
/// during a forged flood (wrk) or a slowloris (connections sending their headers a byte at a time, reconnecting when
/// closed, as an attacker would).
/// </summary>
internal static class Flood
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static async Task<FloodResult> RunAsync(WebhookUnderTest webhook, Deliveries deliveries, RequestSet forged, FloodScenario scenario,
        TimeSpan duration, int validPerSecond, string set, CancellationToken cancellationToken)
    {
        var endpoint = IPEndPoint.Parse(new Uri(webhook.Url).Authority);
        var before = await webhook.SettledCountersAsync(cancellationToken);
        var beforeStatus = await webhook.StatusAsync(cancellationToken);
        var rssBefore = RssKiB(webhook.Process.Id);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var rssPeak = rssBefore;
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                rssPeak = Math.Max(rssPeak, RssKiB(webhook.Process.Id));
                await Task.Delay(250, CancellationToken.None);
            }
        }, CancellationToken.None);

        // The attack first, then the real sender once it is in full swing.
        Task<long> attack = scenario.ForgedConnections > 0
            ? WrkFloodAsync(webhook.Url, forged, scenario.ForgedConnections, duration + TimeSpan.FromSeconds(2), cancellationToken)
            : SlowlorisAsync(endpoint, scenario.SlowConnections, duration + TimeSpan.FromSeconds(2), cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var (latencies, failures) = await ValidSenderAsync(endpoint, deliveries, set, validPerSecond, duration, cancellationToken);
        var attackRequests = await attack;
        await stop.CancelAsync();
        await sampler;

        var after = await webhook.SettledCountersAsync(cancellationToken);
        var afterStatus = await webhook.StatusAsync(cancellationToken);
        var counts = after - before;
        var sorted = latencies.Order().ToList();
        return new FloodResult(scenario, latencies.Count + failures.Count, failures.Count,
            Percentile(sorted, 50), Percentile(sorted, 99), sorted.Count == 0 ? 0 : sorted[^1],
            counts.Accepted, counts.Duplicate, rssPeak - rssBefore,
            Delta(beforeStatus, afterStatus, "http_connections_evicted"), Delta(beforeStatus, afterStatus, "http_connections_idle_closed"),
            attackRequests, failures.FirstOrDefault() ?? "");
    }

    /// <summary>Bytes the webhook wrote to disk (<c>/proc/PID/io</c> write_bytes) while only forged requests came.</summary>
    public static async Task<long> ForgedOnlyWritesAsync(WebhookUnderTest webhook, RequestSet forged, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        await SettleAsync(cancellationToken);
        var before = WriteBytes(webhook.Process.Id);
        await WrkFloodAsync(webhook.Url, forged, connections, duration, cancellationToken);
        await Task.Delay(500, cancellationToken);
        return WriteBytes(webhook.Process.Id) - before;
    }

    /// <summary>Valid deliveries, <paramref name="perSecond"/> a second for <paramref name="duration"/>, each on its own connection.</summary>
    private static async Task<(List<double> Latencies, List<string> Failures)> ValidSenderAsync(IPEndPoint endpoint, Deliveries deliveries, string set,
        int perSecond, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (int)(perSecond * duration.TotalSeconds);
        var requests = Enumerable.Range(0, total).Select(i => deliveries.ValidRequest(i, set)).ToList();
        var latencies = new List<double>(total);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        var running = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / perSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
            var request = requests[i];
            running.Add(Task.Run(async () =>
            {
                var (ok, why) = await SendAsync(endpoint, request, cancellationToken);
                var took = (clock.Elapsed - due).TotalMilliseconds;
                lock (latencies)
                {
                    if (ok)
                    {
                        latencies.Add(took);
                    }
                    else
                    {
                        failures.Add(why);
                    }
                }
            }, cancellationToken));
        }
        await Task.WhenAll(running);
        return (latencies, failures);
    }

    /// <summary>One request on a fresh connection: true for a 200.</summary>
    private static async Task<(bool Ok, string Why)> SendAsync(IPEndPoint endpoint, byte[] request, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RequestTimeout);
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint, limit.Token);
            await socket.SendAsync(request, SocketFlags.None, limit.Token);
            var buffer = new byte[1024];
            var received = 0;
            while (received < 12)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, limit.Token);
                if (n == 0)
                {
                    return (false, "the connection was closed before an answer");
                }
                received += n;
            }
            var status = Encoding.ASCII.GetString(buffer, 0, 12);
            return status == "HTTP/1.1 200" ? (true, "") : (false, "answered " + status);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"no answer within {RequestTimeout.TotalSeconds:0} s");
        }
        catch (SocketException e)
        {
            return (false, e.SocketErrorCode.ToString());
        }
    }

    /// <summary>wrk sending forged deliveries on <paramref name="connections"/> connections; returns how many it sent.</summary>
    private static async Task<long> WrkFloodAsync(string url, RequestSet forged, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        var result = await Wrk.RunAsync(url, forged, new WrkSettings(2, connections, duration), cancellationToken, fileLimit: connections + 256);
        return result.Requests;
    }

    /// <summary>
    /// A slowloris: <paramref name="connections"/> connections, each sending a request head a byte every 200 ms (never
    /// finishing it), reconnecting whenever the webhook closes one. Returns how many connections it opened in all.
    /// </summary>
    private static async Task<long> SlowlorisAsync(IPEndPoint endpoint, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        var head = Encoding.ASCII.GetBytes("POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Padding: " + new string('a', 4000));
        long opened = 0;
        var end = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            // Spread the connections' start over the first second, as a real tool ramps up.
            await Task.Delay(c * 1000 / connections, cancellationToken);
            while (DateTime.UtcNow < end && !cancellationToken.IsCancellationRequested)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken);
                    Interlocked.Increment(ref opened);
                    for (var i = 0; i < head.Length && DateTime.UtcNow < end; i++)
                    {
                        await socket.SendAsync(head.AsMemory(i, 1), SocketFlags.None, cancellationToken);
                        await Task.Delay(200, cancellationToken);
                    }
                }
                catch (SocketException)
                {
                    await Task.Delay(50, cancellationToken); // closed by the webhook: come back, as an attacker would
                }
            }
        }));
        return opened;
    }

    private static async Task SettleAsync(CancellationToken cancellationToken)
    {
        using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false })!;
        await sync.WaitForExitAsync(cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
    }

    private static long Delta(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after, string key) =>
        long.Parse(after.GetValueOrDefault(key, "0"), CultureInfo.InvariantCulture) - long.Parse(before.GetValueOrDefault(key, "0"), CultureInfo.InvariantCulture);

    private static long RssKiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();

    private static long WriteBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/io").Where(l => l.StartsWith("write_bytes:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();

    private static double Percentile(List<double> sorted, int p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
