using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BoxBot.Bench.Webhook;

// Webhook throughput, measured against its own baseline in the same run (never in tests): wrk drives
// the published webhook with valid signed deliveries (unique, so each is written to the spool and
// fsynced), then with forged ones (403), and Debian's nginx answering an empty 200 on loopback with
// the same wrk settings and the same requests, before and after. Then a breakdown: requests that
// stop at each step of the webhook's path (no signature, a wrong one, a signed non-object, a
// duplicate) show what each step costs. No agent runs: accepted deliveries stay in the spool.
// Needs wrk and nginx (scripts/bench-prereqs.sh installs them; `make bench` runs it).
const string AppSecret = "bench-app-secret-0123456789abcdef";
var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: BoxBot.Bench.Webhook [path/to/boxbot-webhook] [--threads N] [--connections N] [--duration SECONDS] [--deliveries N] " +
        "[--flood-duration SECONDS] [--only throughput|flood]");
    return 2;
}
foreach (var (tool, path) in new[] { ("boxbot-webhook", options.Webhook), ("wrk", Wrk.Executable), ("nginx", NginxBaseline.Executable) })
{
    if (!File.Exists(path))
    {
        Console.Error.WriteLine($"bench: {path} not found: " + (tool == "boxbot-webhook" ? "run `make publish` first" : "run scripts/bench-prereqs.sh (`make bench` does)"));
        return 1;
    }
}

using var cancel = new CancellationTokenSource();
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
var work = Directory.CreateTempSubdirectory("boxbot-bench-webhook-").FullName;
// The request files are wrk's input, not the webhook's: in memory when /dev/shm is there, so writing them leaves
// no dirty pages on the spool's disk for its fsyncs to wait behind.
var data = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : work, Path.GetFileName(work) + "-requests");
try
{
    var token = cancel.Token;
    var load = LoadAverage();
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}, Linux {Environment.OSVersion.Version}; load average {load} at the start");
    var writer = new Deliveries(data, options.Threads, AppSecret);
    var deliveries = writer.WriteAll(options.Deliveries, "not-the-app-secret-at-all");
    if (options.Only != "throughput")
    {
        await FloodAsync(writer, deliveries.Forged);
        if (options.Only == "flood")
        {
            return 0;
        }
    }
    await using var nginx = await NginxBaseline.StartAsync(Path.Combine(work, "nginx"), token);
    await using var webhook = await WebhookUnderTest.StartAsync(options.Webhook, Path.Combine(work, "home"), AppSecret, Math.Max(256, 2 * options.Connections), token);
    var wrk = new WrkSettings(options.Threads, options.Connections, TimeSpan.FromSeconds(options.Duration));
    Console.WriteLine($"{wrk.Describe()}, the same Lua script and requests for every run: POST /webhook, official-shape text deliveries of {deliveries.BodyBytes} bytes");
    Console.WriteLine($"webhook: {options.Webhook}, home on {FileSystem(work)} ({work}), spool synchronous=FULL with group commit; no agent runs, so accepted deliveries stay in the spool");
    Console.WriteLine($"nginx: {nginx.Url}, worker_processes auto, access_log off, `return 200`");

    // Warm both servers (page cache, connection set-up, the spool's first pages) before measuring;
    // the webhook's warm-up set is sent again later as the duplicates.
    var warm = wrk with { Duration = TimeSpan.FromSeconds(2) };
    await Wrk.RunAsync(nginx.Url, deliveries.Valid, warm, token);
    await Wrk.RunAsync(webhook.Url, deliveries.Warm, warm, token);
    var nginxCpu = () => CpuTime.Seconds(nginx.Process.Id, withChildren: true);
    var webhookCpu = () => CpuTime.Seconds(webhook.Process.Id);

    Console.WriteLine($"measuring, {options.Duration} s each:");
    Console.WriteLine("  nginx ...");
    var nginxBefore = Expect("nginx before", await RunAsync(nginx.Url, deliveries.Valid, nginxCpu), non2xx: false);
    var (valid, validCounts) = await MeasureAsync(deliveries.Valid, non2xx: false);
    if (validCounts.RateLimited > 0 || validCounts.Accepted + validCounts.Duplicate < valid.Requests)
    {
        throw new BenchException($"valid: wrk counted {valid.Requests} 200s, the webhook stored {validCounts.Accepted} and recognised {validCounts.Duplicate} duplicates "
            + $"({validCounts.RateLimited} rate limited: the bench config should keep the limits out of the way)");
    }
    var (forged, forgedCounts) = await MeasureAsync(deliveries.Forged, non2xx: true);
    RequireCounted("forged", forged, forgedCounts.RejectedSignature, forgedCounts);
    var (unsigned, unsignedCounts) = await MeasureAsync(deliveries.Unsigned, non2xx: true);
    RequireCounted("unsigned", unsigned, unsignedCounts.RejectedSignature, unsignedCounts);
    var (array, arrayCounts) = await MeasureAsync(deliveries.SignedArray, non2xx: true);
    RequireCounted("signed array", array, arrayCounts.RejectedJson, arrayCounts);
    var (duplicates, duplicateCounts) = await MeasureAsync(deliveries.Warm, non2xx: false);
    Console.WriteLine("  nginx ...");
    var nginxAfter = Expect("nginx after", await RunAsync(nginx.Url, deliveries.Valid, nginxCpu), non2xx: false);

    // The ratios are against nginx's mean over its runs before and after the webhook's.
    var baseline = (nginxBefore.RequestsPerSecond + nginxAfter.RequestsPerSecond) / 2;
    // One stall of the machine moves a p99 far more than a mean: compare with nginx's better one.
    var baselineP99 = Math.Min(nginxBefore.P99Ms, nginxAfter.P99Ms);
    Console.WriteLine();
    Console.WriteLine($"  {"",-42} {"requests/s",10} {"p50 ms",9} {"p99 ms",9} {"ratio",7} {"server CPU",13}  requests; what the webhook counted");
    Row("nginx, before (empty 200)", nginxBefore, "all 2xx");
    Row("nginx, after", nginxAfter, "all 2xx");
    Row("webhook, valid: unique, spooled (200)", valid,
        $"{validCounts.Accepted} stored new, {validCounts.Duplicate} repeats (duplicates) of {deliveries.Valid.Count} unique");
    Row("webhook, forged: wrong secret (403)", forged, $"all 403 ({forgedCounts.RejectedSignature} rejected_signature)");
    Console.WriteLine("breakdown: requests that stop earlier or later on the webhook's path");
    Row("unsigned: 403 before the body is read", unsigned, $"all 403 ({unsignedCounts.RejectedSignature} rejected_signature)");
    Row("forged: 403 after reading and HMAC", forged, "(as above)");
    Row("signed JSON array: 400 after parsing", array, $"all 400 ({arrayCounts.RejectedJson} rejected_json)");
    Row("duplicates: 200, spool look-up, no write", duplicates, $"{duplicateCounts.Duplicate} duplicates, {duplicateCounts.Accepted} new");
    Row("valid: 200 after the spool's commit", valid, "(as above)");
    Console.WriteLine();
    Target("valid/nginx", valid.RequestsPerSecond / baseline, 0.3);
    // Since the flood defences, every refusal closes its connection: wrk reconnects for each forged request, so this
    // measures a connection and a request per refusal, which nginx's keep-alive 200s do not pay (no target).
    Console.WriteLine($"ratio {"forged/nginx",-13} {forged.RequestsPerSecond / baseline,5:F2}x   (each refusal closes its connection, so wrk reconnects for every one; no target)");
    Console.WriteLine($"p99 against nginx's lower one: valid {valid.P99Ms / baselineP99:F1}x, forged {forged.P99Ms / baselineP99:F1}x");
    if (validCounts.Duplicate > valid.Requests / 20)
    {
        Console.WriteLine($"note: {validCounts.Duplicate} of the valid requests repeated a delivery already stored (no disk write); raise --deliveries above {valid.Requests}");
    }
    if (Math.Abs(nginxBefore.RequestsPerSecond - nginxAfter.RequestsPerSecond) > 0.15 * baseline)
    {
        Console.WriteLine("note: nginx before and after differ by more than 15%: the machine's load changed during the run; run again when it is quiet");
    }
    Console.WriteLine("server CPU: user + system time of nginx (master and workers) or the webhook (all threads) during the run, per request");
    Console.WriteLine($"load average {LoadAverage()} at the end (1, 5, 15 min; {Environment.ProcessorCount} cores)");
    return 0;

    // The webhook under attack, with the box's default settings, while a real sender keeps delivering.
    async Task FloodAsync(Deliveries writer, RequestSet forged)
    {
        const int ValidPerSecond = 200;
        var duration = TimeSpan.FromSeconds(options.FloodDuration);
        await using var target = await WebhookUnderTest.StartAsync(options.Webhook, Path.Combine(work, "flood-home"), AppSecret, maxConnections: null, cancel.Token);
        Console.WriteLine($"flood: the webhook with the default [webhook] settings; a valid sender at {ValidPerSecond}/s, each delivery on a fresh connection, " +
            $"timed from when it was due; {options.FloodDuration} s per attack");
        Console.WriteLine($"  {"attack",-36} {"sent",6} {"failed",7} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"stored",7} {"dup",4} {"RSS +MiB",9} {"evicted",8} {"idle",6}  attack");
        var scenarios = new FloodScenario[]
        {
            new("forged, 64 connections (wrk)", 64, 0),
            new("forged, 300 connections (wrk)", 300, 0),
            new("forged, 1,000 connections (wrk)", 1000, 0),
            new("slowloris, 1,000 connections", 0, 1000),
        };
        // First, on the fresh webhook: what forged requests alone make it write (nothing, if refusals never touch the disk).
        var written = await Flood.ForgedOnlyWritesAsync(target, forged, 64, TimeSpan.FromSeconds(10), cancel.Token);
        // Then a short round of everything, so the attacks below measure the flood and not the webhook's first-use growth
        // (thread pool, buffers, the spool's page cache).
        await Flood.RunAsync(target, writer, forged, new FloodScenario("warm-up", 64, 0), TimeSpan.FromSeconds(5), ValidPerSecond, "floodw", cancel.Token);
        var results = new List<FloodResult>();
        for (var i = 0; i < scenarios.Length; i++)
        {
            var r = await Flood.RunAsync(target, writer, forged, scenarios[i], duration, ValidPerSecond, $"flood{i}", cancel.Token);
            results.Add(r);
            Console.WriteLine($"  {r.Scenario.Name,-36} {r.Sent,6} {r.Failed,7} {r.P50Ms,8:F2} {r.P99Ms,8:F2} {r.MaxMs,8:F1} {r.Stored,7} {r.Duplicates,4} {r.RssGrowthKiB / 1024.0,9:F1} {r.Evicted,8} {r.IdleClosed,6}  " +
                (r.Scenario.ForgedConnections > 0 ? $"{r.AttackRequests} forged requests" : $"{r.AttackRequests} connections opened") +
                (r.Failed > 0 ? $"; first failure: {r.FirstFailure}" : ""));
            if (target.Process.HasExited)
            {
                throw new BenchException($"the webhook exited with {target.Process.ExitCode} under attack:\n{target.Log}");
            }
        }
        Console.WriteLine($"  forged only (first, on the fresh webhook), 64 connections, 10 s: {written} bytes written to disk by the webhook (target 0)");
        var exactlyOnce = results.All(r => r.Stored == r.Sent - r.Failed && r.Duplicates == 0);
        Console.WriteLine($"targets: valid failures 0 ({(results.All(r => r.Failed == 0) ? "met" : "NOT MET")}), p99 <= 100 ms " +
            $"({(results.All(r => r.P99Ms <= 100) ? "met" : "NOT MET")}), each stored exactly once ({(exactlyOnce ? "met" : "NOT MET")}), RSS growth <= 20 MiB " +
            $"({(results.All(r => r.RssGrowthKiB <= 20 * 1024) ? "met" : "NOT MET")}), no disk writes for forged requests ({(written == 0 ? "met" : "NOT MET")})");
        Console.WriteLine($"(load average {LoadAverage()} after the attacks)");
        Console.WriteLine();
    }

    async Task<(WrkResult Result, Counters Counts)> MeasureAsync(RequestSet requests, bool non2xx)
    {
        Console.WriteLine($"  webhook, {Path.GetFileName(requests.Path)} ...");
        var before = await webhook.SettledCountersAsync(token);
        var result = await RunAsync(webhook.Url, requests, webhookCpu);
        var counts = await webhook.SettledCountersAsync(token) - before;
        if (webhook.Process.HasExited)
        {
            throw new BenchException($"the webhook exited with {webhook.Process.ExitCode} during the run:\n{webhook.Log}");
        }
        return (Expect(Path.GetFileName(requests.Path), result, non2xx), counts);
    }
    async Task<WrkResult> RunAsync(string url, RequestSet requests, Func<double> serverCpu)
    {
        // The valid run leaves the spool's dirty pages for the kernel to write back, which would slow whichever run
        // came next: every run starts with them written and a second of quiet.
        await SettleAsync(token);
        var cpu = serverCpu();
        var result = await Wrk.RunAsync(url, requests, wrk, token);
        return result with { ServerCpuSeconds = serverCpu() - cpu };
    }
    void Row(string name, WrkResult r, string note) =>
        Console.WriteLine($"  {name,-42} {r.RequestsPerSecond,10:F0} {r.P50Ms,9:F2} {r.P99Ms,9:F2} {r.RequestsPerSecond / baseline,6:F2}x {r.ServerCpuMicrosecondsPerRequest,6:F1} us/req  {r.Requests}; {note}"
            + (r.SocketErrors > 0 ? $"; {r.SocketErrors} socket errors" : ""));
}
catch (Exception e) when (cancel.IsCancellationRequested && e is OperationCanceledException or BenchException)
{
    // Ctrl-C in a terminal reaches wrk and nginx too, so a run may fail before the cancellation is seen.
    Console.Error.WriteLine($"bench: interrupted; stopped nginx and the webhook and removed {work} and {data}");
    return 130;
}
catch (BenchException e)
{
    Console.Error.WriteLine("bench: " + e.Message);
    return 1;
}
finally
{
    Directory.Delete(work, recursive: true);
    if (Directory.Exists(data))
    {
        Directory.Delete(data, recursive: true);
    }
}

void Stop(PosixSignalContext context)
{
    // Clean up instead of dying: the finally blocks stop nginx and the webhook and delete the temp folder.
    context.Cancel = true;
    cancel.Cancel();
}

static WrkResult Expect(string run, WrkResult result, bool non2xx)
{
    var expected = non2xx ? result.Requests : 0;
    if (result.Requests == 0 || result.Non2xx != expected)
    {
        throw new BenchException($"{run}: {result.Non2xx} of {result.Requests} responses were 4xx/5xx, expected {expected}:\n{result.Output}");
    }
    return result;
}

// Every request wrk counted must have been refused for the reason the run is about (the webhook's
// counter may be a little higher: requests in flight at wrk's deadline are answered but not counted by wrk).
static void RequireCounted(string run, WrkResult result, long counter, Counters counts)
{
    if (counter < result.Requests || counts.Accepted != 0)
    {
        throw new BenchException($"{run}: wrk counted {result.Requests} refusals, the webhook {counter} of this kind ({counts})");
    }
}

static async Task SettleAsync(CancellationToken cancellationToken)
{
    using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false })!;
    await sync.WaitForExitAsync(cancellationToken);
    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
}

static void Target(string name, double ratio, double target) =>
    Console.WriteLine($"ratio {name,-13} {ratio,5:F2}x   target >= {target:F1}x   " + (ratio >= target ? "met" : "NOT MET"));

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static string CpuModel() =>
    File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown cpu";

static string FileSystem(string path)
{
    // The mount that holds the path: the longest mount point that is a prefix of it.
    var mounts = File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2)
        .Where(f => path == f[1] || path.StartsWith(f[1].TrimEnd('/') + "/", StringComparison.Ordinal));
    return mounts.MaxBy(f => f[1].Length)?[2] ?? "an unknown file system";
}

/// <summary>The command line: the webhook executable (default out/bin/boxbot-webhook) and wrk's settings.</summary>
internal sealed record BenchOptions(string Webhook, int Threads, int Connections, int Duration, int Deliveries, int FloodDuration = 30, string Only = "")
{
    public static BenchOptions? Parse(string[] args)
    {
        var options = new BenchOptions(Path.GetFullPath("out/bin/boxbot-webhook"), Threads: 2, Connections: 32, Duration: 10, Deliveries: 600_000);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                options = options with { Webhook = Path.GetFullPath(args[i]) };
                continue;
            }
            if (args[i] == "--only" && i + 1 < args.Length && args[i + 1] is "throughput" or "flood")
            {
                options = options with { Only = args[++i] };
                continue;
            }
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                return null;
            }
            options = args[i++] switch
            {
                "--threads" => options with { Threads = n },
                "--connections" => options with { Connections = n },
                "--duration" => options with { Duration = n },
                "--deliveries" => options with { Deliveries = n },
                "--flood-duration" => options with { FloodDuration = n },
                _ => null,
            };
            if (options is null)
            {
                return null;
            }
        }
        return options.Connections >= options.Threads ? options : null;
    }
}
