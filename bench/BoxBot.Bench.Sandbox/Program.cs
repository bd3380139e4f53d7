using System.Diagnostics;
using System.Globalization;
using BoxBot.Bench.Sandbox;
using BoxBot.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

// Sandbox start-up cost, measured against its own baseline in the same run (never in tests):
// `print(1)` through the runner's API versus a bare `python3 -I -S -c 'print(1)'`, interleaved so
// all see the same machine state; then 16 jobs at once, against 16 bare interpreters at once.
// The runner is configured as the daemon configures it (SDK runtime, the default warm jobs); a
// second runner with no warm jobs shows what a job costs when none is ready (a cold start).
// Needs root (the runner confines jobs with namespaces) and the published launcher and runtime.
const int Rounds = 50;
const int Concurrent = 16;
var launcher = args.Length > 0 ? Path.GetFullPath(args[0]) : Path.GetFullPath("out/bin/boxbot-sandbox");
if (!File.Exists(launcher))
{
    Console.Error.WriteLine($"bench: {launcher} not found: run `make publish` first");
    return 1;
}
var runtime = Path.Combine(Path.GetDirectoryName(launcher)!, "sandbox-runtime");
if (!File.Exists(Path.Combine(runtime, "bootstrap.py")))
{
    Console.Error.WriteLine($"bench: {runtime}/bootstrap.py not found: run `make publish` first");
    return 1;
}
var jobs = Directory.CreateTempSubdirectory("boxbot-bench-").FullName;
try
{
    var options = new SandboxRunnerOptions { JobsDir = jobs + "/warm", LauncherPath = launcher, MaxConcurrentJobs = Concurrent, SdkRuntimePath = runtime };
    await using var runner = new SandboxRunner(options, NullLogger.Instance);
    await using var coldRunner = new SandboxRunner(options with { JobsDir = jobs + "/cold", WarmJobs = 0 }, NullLogger.Instance);
    runner.Validate();
    coldRunner.Validate();
    var job = new JobRequest { Script = "print(1)\n" };

    // Warm every path (page cache, first-run costs) before measuring.
    await Sandboxed(runner, job);
    await Sandboxed(coldRunner, job);
    await Bare();

    var sandbox = new List<double>();
    var cold = new List<double>();
    var bare = new List<double>();
    for (var i = 0; i < Rounds; i++)
    {
        sandbox.Add(await Sandboxed(runner, job));
        bare.Add(await Bare());
        cold.Add(await Sandboxed(coldRunner, job));
    }
    var sandboxRate = await Throughput(() => Sandboxed(runner, job));
    var bareRate = await Throughput(Bare);

    var (s50, s95) = (Percentile(sandbox, 50), Percentile(sandbox, 95));
    var (c50, c95) = (Percentile(cold, 50), Percentile(cold, 95));
    var (b50, b95) = (Percentile(bare, 50), Percentile(bare, 95));
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown cpu"}, Linux {Environment.OSVersion.Version}");
    Console.WriteLine($"print(1), {Rounds} runs each, interleaved:");
    Console.WriteLine($"  sandbox (runner API)    p50 {s50,7:F1} ms   p95 {s95,7:F1} ms   ({options.WarmJobs} warm jobs, as configured by default)");
    Console.WriteLine($"  sandbox, cold start     p50 {c50,7:F1} ms   p95 {c95,7:F1} ms   (no warm jobs)");
    Console.WriteLine($"  bare python3 -I -S      p50 {b50,7:F1} ms   p95 {b95,7:F1} ms");
    Console.WriteLine($"  ratio sandbox/bare      p50 {s50 / b50,7:F2}x    p95 {s95 / b95,7:F2}x   (target p50 <= 1.30x)");
    Console.WriteLine($"  ratio cold/bare         p50 {c50 / b50,7:F2}x    p95 {c95 / b95,7:F2}x");
    Console.WriteLine($"{Concurrent} at once:");
    Console.WriteLine($"  sandbox {sandboxRate,7:F1} jobs/s   bare {bareRate,7:F1} runs/s   ratio {sandboxRate / bareRate:F2}x");

    // The admin's path, hop by hop, on a development box of the published executables (its own warm jobs).
    var cli = Path.Combine(Path.GetDirectoryName(launcher)!, "boxbot");
    await using (var path = await ScriptPath.StartAsync(cli, Path.Combine(jobs, "box")))
    {
        for (var i = 0; i < 5; i++)
        {
            await path.SandboxSocketAsync();
            await path.AgentSocketAsync();
            await path.CliAsync();
        }
        var (viaSandbox, viaAgent, viaCli, bare2) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        // A pause after each job: the runner starts a warm job in the place of the one used, and that start (tens of
        // milliseconds of CPU) must not land on the next measurement, as it would not for an admin typing commands.
        var settle = TimeSpan.FromMilliseconds(200);
        for (var i = 0; i < Rounds; i++)
        {
            viaSandbox.Add(await path.SandboxSocketAsync());
            await Task.Delay(settle);
            viaAgent.Add(await path.AgentSocketAsync());
            await Task.Delay(settle);
            viaCli.Add(await path.CliAsync());
            await Task.Delay(settle);
            bare2.Add(await Bare());
            await Task.Delay(settle);
        }
        var (p50s, p50a, p50c, p50b) = (Percentile(viaSandbox, 50), Percentile(viaAgent, 50), Percentile(viaCli, 50), Percentile(bare2, 50));
        Console.WriteLine($"the admin's path (boxbot dev up, {Rounds} runs each, interleaved):");
        Console.WriteLine($"  sandbox.sock sandbox.run p50 {p50s,7:F1} ms   p95 {Percentile(viaSandbox, 95),7:F1} ms   {p50s / p50b,5:F2}x bare");
        Console.WriteLine($"  agent.sock sandbox.run   p50 {p50a,7:F1} ms   p95 {Percentile(viaAgent, 95),7:F1} ms   {p50a / p50b,5:F2}x bare   (the agent's hop: {p50a - p50s:F1} ms)");
        Console.WriteLine($"  boxbot sandbox run       p50 {p50c,7:F1} ms   p95 {Percentile(viaCli, 95),7:F1} ms   {p50c / p50b,5:F2}x bare   (the CLI's hop: {p50c - p50a:F1} ms; target <= 1.80x)");
        Console.WriteLine($"  bare python3 -I -S       p50 {p50b,7:F1} ms   p95 {Percentile(bare2, 95),7:F1} ms");
    }
    return 0;
}
finally
{
    Directory.Delete(jobs, recursive: true);
}

static async Task<double> Sandboxed(SandboxRunner runner, JobRequest job)
{
    var clock = Stopwatch.StartNew();
    var result = await runner.RunAsync(job);
    if (result.Status != "ok" || result.Stdout != "1\n")
    {
        throw new InvalidOperationException($"sandbox job failed: {result.Status} {result.KilledBy} {result.Error} {result.Stderr}");
    }
    return clock.Elapsed.TotalMilliseconds;
}

static async Task<double> Bare()
{
    var clock = Stopwatch.StartNew();
    using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-I", "-S", "-c", "print(1)"]) { RedirectStandardOutput = true })!;
    var output = await p.StandardOutput.ReadToEndAsync();
    await p.WaitForExitAsync();
    return p.ExitCode == 0 && output == "1\n" ? clock.Elapsed.TotalMilliseconds : throw new InvalidOperationException("bare python3 failed");
}

static async Task<double> Throughput(Func<Task<double>> run)
{
    var clock = Stopwatch.StartNew();
    const int Batches = 3;
    for (var b = 0; b < Batches; b++)
    {
        await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(_ => run()));
    }
    return Batches * Concurrent / clock.Elapsed.TotalSeconds;
}

static double Percentile(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
    return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
}
