using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Linux;

namespace BoxBot.Bench.Webhook;

/// <summary>
/// The published webhook in a throwaway BOXBOT_HOME with its two credentials and a config that keeps the rate limits
/// out of the way. No agent runs: what it accepts stays in its spool.
/// </summary>
internal sealed class WebhookUnderTest : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _log = new();
    private readonly string _socket;

    private WebhookUnderTest(Process process, string home)
    {
        Process = process;
        Home = home;
        _socket = Path.Combine(home, "run", Daemons.Webhook.SocketName);
    }

    public Process Process { get; }
    public string Home { get; }
    public string Url { get; private set; } = "";
    public string Log => string.Join('\n', _log);

    /// <param name="maxConnections">[webhook] max_connections, or null for the box's default.</param>
    public static async Task<WebhookUnderTest> StartAsync(string executable, string home, string appSecret, int? maxConnections, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var credentials = Directory.CreateDirectory(Path.Combine(home, "credentials"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        WriteSecret(Path.Combine(credentials, "whatsapp-app-secret"), appSecret);
        WriteSecret(Path.Combine(credentials, "whatsapp-verify-token"), "bench-verify-token");
        var config = Path.Combine(home, "bench.toml");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            [webhook]
            port = 0
            {(maxConnections is { } max ? $"max_connections = {max}" : "")}
            sender_messages_per_minute = 1000000
            global_messages_per_minute = 10000000

            """));

        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(config);
        // As its unit and `boxbot dev up` run it.
        foreach (var (name, value) in InstallLayout.RuntimeEnvironment(Daemons.Webhook))
        {
            info.Environment[name] = value;
        }
        info.Environment["BOXBOT_HOME"] = home;
        info.Environment.Remove("NOTIFY_SOCKET");
        var webhook = new WebhookUnderTest(new Process { StartInfo = info }, home);
        webhook.Process.OutputDataReceived += (_, e) => webhook.Capture(e.Data);
        webhook.Process.ErrorDataReceived += (_, e) => webhook.Capture(e.Data);
        webhook.Process.Start();
        webhook.Process.BeginOutputReadLine();
        webhook.Process.BeginErrorReadLine();
        try
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                if (webhook.Process.HasExited)
                {
                    throw new BenchException($"{executable} exited with {webhook.Process.ExitCode} before answering on its control socket:\n{webhook.Log}");
                }
                try
                {
                    webhook.Url = "http://" + (await webhook.StatusAsync(cancellationToken))["listen"] + "/webhook";
                    return webhook;
                }
                catch (IpcException) when (waited.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(50, cancellationToken);
                }
                catch (IpcException e)
                {
                    throw new BenchException($"{executable} never answered system.status on {webhook._socket} ({e.Message}):\n{webhook.Log}");
                }
            }
        }
        catch
        {
            await webhook.DisposeAsync();
            throw;
        }
    }

    /// <summary>The details of <c>system.status</c>: the listen address and the counters.</summary>
    public async Task<IReadOnlyDictionary<string, string>> StatusAsync(CancellationToken cancellationToken)
    {
        await using var client = await JsonRpcClient.ConnectAsync(_socket, cancellationToken);
        var status = await client.CallAsync(SystemMethods.Status, new EmptyParams(), ContractsJsonContext.Default.EmptyParams, ContractsJsonContext.Default.SystemStatus,
            cancellationToken: cancellationToken);
        return status.Details;
    }

    /// <summary>
    /// The counters once they stop moving: wrk stops counting at its deadline, but requests it had already sent
    /// are still answered (and counted here) a moment later.
    /// </summary>
    public async Task<Counters> SettledCountersAsync(CancellationToken cancellationToken)
    {
        var last = Counters.From(await StatusAsync(cancellationToken));
        for (var i = 0; i < 40; i++)
        {
            await Task.Delay(100, cancellationToken);
            var now = Counters.From(await StatusAsync(cancellationToken));
            if (now == last)
            {
                return now;
            }
            last = now;
        }
        return last;
    }

    public async ValueTask DisposeAsync()
    {
        // SIGTERM runs the daemon's shutdown phases (the spool closes cleanly); SIGKILL only if that hangs.
        await ServerProcess.StopAsync(Process);
        Process.Dispose();
    }

    private void Capture(string? line)
    {
        if (line is not null)
        {
            _log.Enqueue(line);
        }
    }

    private static void WriteSecret(string path, string value)
    {
        File.WriteAllText(path, value, new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}

/// <summary>The webhook's status counters the benchmark checks its runs against.</summary>
internal sealed record Counters(long Accepted, long Duplicate, long RejectedSignature, long RejectedJson, long RateLimited, long Spooled)
{
    public static Counters From(IReadOnlyDictionary<string, string> details) => new(
        Get(details, "accepted"), Get(details, "duplicate"), Get(details, "rejected_signature"), Get(details, "rejected_json"),
        Get(details, "rate_limited"), Get(details, "spooled"));

    public static Counters operator -(Counters a, Counters b) => new(
        a.Accepted - b.Accepted, a.Duplicate - b.Duplicate, a.RejectedSignature - b.RejectedSignature, a.RejectedJson - b.RejectedJson,
        a.RateLimited - b.RateLimited, a.Spooled - b.Spooled);

    private static long Get(IReadOnlyDictionary<string, string> details, string key) =>
        details.TryGetValue(key, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : throw new BenchException($"system.status has no counter {key}");
}

/// <summary>The benchmark could not be set up or a run did not do what it should (exit 1); a missed target is not this.</summary>
internal sealed class BenchException(string message) : Exception(message);
