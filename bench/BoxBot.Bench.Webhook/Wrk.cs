using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace BoxBot.Bench.Webhook;

/// <summary>wrk's settings, the same for every run (the baseline's too).</summary>
internal sealed record WrkSettings(int Threads, int Connections, TimeSpan Duration)
{
    public string Describe() => $"wrk -t{Threads} -c{Connections} -d{Duration.TotalSeconds:0}s --latency --timeout 10s";
}

/// <summary>What one wrk run measured.</summary>
/// <param name="Non2xx">wrk's "Non-2xx or 3xx responses" (it counts every status above 399).</param>
internal sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors, string Output)
{
    /// <summary>CPU time the server spent during the run (see <see cref="CpuTime"/>).</summary>
    public double ServerCpuSeconds { get; init; }

    public double ServerCpuMicrosecondsPerRequest => ServerCpuSeconds * 1e6 / Requests;
}

/// <summary>Runs wrk with deliveries.lua against one URL and parses what it prints.</summary>
internal static partial class Wrk
{
    public const string Executable = "/usr/bin/wrk";

    /// <param name="fileLimit">When set, wrk runs under <c>prlimit --nofile</c> this high (a thousand connections need more than the usual 1024).</param>
    public static async Task<WrkResult> RunAsync(string url, RequestSet requests, WrkSettings settings, CancellationToken cancellationToken, int? fileLimit = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var script = Path.Combine(AppContext.BaseDirectory, "deliveries.lua");
        var info = new ProcessStartInfo(fileLimit is null ? Executable : "/usr/bin/prlimit") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (fileLimit is { } limit)
        {
            info.ArgumentList.Add($"--nofile={limit}:{limit}");
            info.ArgumentList.Add(Executable);
        }
        // A generous timeout: a slow commit should show in the latency, not vanish as a socket timeout.
        foreach (var a in new[]
                 {
                     "-t", Invariant(settings.Threads), "-c", Invariant(settings.Connections), "-d", Invariant((int)settings.Duration.TotalSeconds) + "s",
                     "--latency", "--timeout", "10s", "-s", script, url, "--", requests.Path, Invariant(requests.RequestBytes),
                 })
        {
            info.ArgumentList.Add(a);
        }
        using var wrk = Process.Start(info)!;
        var stdout = wrk.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = wrk.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await wrk.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            wrk.Kill();
            await wrk.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        cancellationToken.ThrowIfCancellationRequested(); // wrk stops early on SIGINT and prints partial figures
        var output = await stdout + await stderr;
        if (wrk.ExitCode != 0)
        {
            throw new BenchException($"wrk exited with {wrk.ExitCode}:\n{output}");
        }
        return Parse(output);
    }

    internal static WrkResult Parse(string output)
    {
        var rate = RequestsPerSecond().Match(output);
        var p50 = Percentile().Matches(output).FirstOrDefault(m => m.Groups["p"].Value == "50");
        var p99 = Percentile().Matches(output).FirstOrDefault(m => m.Groups["p"].Value == "99");
        var total = Total().Match(output);
        if (!rate.Success || p50 is null || p99 is null || !total.Success)
        {
            throw new BenchException("cannot read wrk's output (Requests/sec, the --latency distribution, the request count):\n" + output);
        }
        var non2xx = Non2xx().Match(output);
        var socket = SocketErrors().Match(output);
        var socketErrors = socket.Success ? Enumerable.Range(1, 4).Sum(g => long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture)) : 0;
        return new WrkResult(
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            Milliseconds(p50), Milliseconds(p99),
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socketErrors,
            output);
    }

    private static double Milliseconds(Match percentile)
    {
        var value = double.Parse(percentile.Groups["v"].Value, CultureInfo.InvariantCulture);
        return percentile.Groups["u"].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            "m" => value * 60_000,
            var unit => throw new BenchException($"wrk printed a latency in an unknown unit '{unit}'"),
        };
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    // The --latency distribution: "     99%    2.05ms".
    [GeneratedRegex(@"^\s+(?<p>50|75|90|99)%\s+(?<v>[0-9.]+)(?<u>us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile();

    [GeneratedRegex(@"^\s+(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex Total();

    [GeneratedRegex(@"^\s+Non-2xx or 3xx responses: (\d+)", RegexOptions.Multiline)]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", RegexOptions.Multiline)]
    private static partial Regex SocketErrors();
}
