using System.Diagnostics;
using System.Globalization;
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
