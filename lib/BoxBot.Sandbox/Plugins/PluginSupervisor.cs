using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Plugins;

/// <summary>What to run for one plugin: its process settings and the limits its manifest declared.</summary>
/// <param name="Plugin">The plugin job (code and data folders, entry point, class).</param>
/// <param name="MemoryBytes">Its address-space limit (manifest <c>memory_mib</c>).</param>
/// <param name="CallTimeout">How long one call may take (manifest <c>timeout_s</c>); past it the call is cancelled and reported.</param>
public sealed record PluginLaunch(JobPlugin Plugin, long MemoryBytes, TimeSpan CallTimeout);

/// <summary>A loaded plugin as its supervisor sees it.</summary>
public sealed record PluginRunState(string PluginId, string State, PluginOffer? Offer, int Restarts, string? LastError, string? LastOutput,
    long Calls, long Failures, long TimedOut, DateTimeOffset Since);

/// <summary>
/// Keeps each loaded plugin's process running: one long-lived job per plugin (<see cref="JobPlugin"/>) served by a
/// <see cref="PluginProcess"/>; a process that ends unasked is restarted after a backoff (1 s doubling to 60 s, reset after
/// a minute of service) and the calls it held are answered with why; a call past the plugin's timeout is cancelled, and a
/// process that does not answer its cancel within <see cref="CancelGrace"/> (a blocked event loop, a spin) is ended and
/// restarted. Unloading stops it (its <c>stop()</c> runs, then it is killed if it lingers).
/// </summary>
public sealed class PluginSupervisor : IAsyncDisposable
{
    public static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);
    private readonly SandboxRunner _runner;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Loaded> _loaded = new(StringComparer.Ordinal);
    private readonly Channel<PluginEvent> _events = Channel.CreateBounded<PluginEvent>(new BoundedChannelOptions(1000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private int _disposed;

    public PluginSupervisor(SandboxRunner runner, ILogger log, TimeProvider time)
    {
        _runner = runner;
        _log = log;
        _time = time;
    }

    /// <summary>Events the loaded plugins emitted, in order; at most 1,000 wait (more are dropped and counted).</summary>
    public ChannelReader<PluginEvent> Events => _events.Reader;

    public IReadOnlyList<PluginRunState> List() => [.. _loaded.Values.Select(l => l.State()).OrderBy(s => s.PluginId, StringComparer.Ordinal)];

    public PluginRunState? Get(string pluginId) => _loaded.TryGetValue(pluginId, out var l) ? l.State() : null;

    /// <summary>
    /// Starts <paramref name="launch"/>'s plugin and waits until it is ready (returns its state) or failed to start
    /// (throws <see cref="PluginFailedException"/> saying why, and nothing stays loaded). A loaded plugin is stopped first.
    /// </summary>
    public async Task<PluginRunState> LoadAsync(PluginLaunch launch, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var id = launch.Plugin.Id;
        await UnloadAsync(id);
        var loaded = new Loaded(this, launch);
        if (!_loaded.TryAdd(id, loaded))
        {
            throw new PluginFailedException($"plugin {id} is being loaded already");
        }
        try
        {
            await loaded.FirstReady.Task.WaitAsync(ReadyTimeout, ct);
            return loaded.State();
        }
        catch (Exception e)
        {
            _loaded.TryRemove(new KeyValuePair<string, Loaded>(id, loaded));
            await loaded.StopAsync();
            if (e is TimeoutException)
            {
                throw new PluginFailedException($"plugin {id} was not ready within {ReadyTimeout.TotalSeconds:0} s" + loaded.OutputSuffix());
            }
            throw e is PluginFailedException or OperationCanceledException ? e : new PluginFailedException(e.Message);
        }
    }

    /// <summary>Stops a loaded plugin; false when it was not loaded.</summary>
    public async Task<bool> UnloadAsync(string pluginId)
    {
        if (!_loaded.TryRemove(pluginId, out var loaded))
        {
            return false;
        }
        await loaded.StopAsync();
        return true;
    }

    /// <summary>Calls one of a loaded plugin's functions (its own name or "{id}.name"); the outcome says what went wrong.</summary>
    public async Task<PluginCallOutcome> CallAsync(string pluginId, string function, string paramsJson, string? sourceDevice, CancellationToken ct)
    {
        if (!_loaded.TryGetValue(pluginId, out var loaded))
        {
            return new PluginCallOutcome(null, $"plugin {pluginId} is not loaded");
        }
        return await loaded.CallAsync(function, paramsJson, sourceDevice, ct);
    }

    /// <summary>Runs <paramref name="plugin"/> (with <see cref="JobPlugin.Describe"/>) once and returns what it offers.</summary>
    public async Task<PluginOffer> DescribeAsync(JobPlugin plugin, long memoryBytes, CancellationToken ct)
    {
        var result = await _runner.RunAsync(new JobRequest
        {
            Script = JobPlugin.Script,
            Plugin = plugin with { Describe = true, DataHost = null },
            MemoryBytes = memoryBytes,
            Timeout = TimeSpan.FromSeconds(30),
        }, ct);
        var stdout = result.Stdout.Trim();
        var last = stdout.Split('\n')[^1];
        try
        {
            using var doc = JsonDocument.Parse(last);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            {
                throw new PluginFailedException(error.GetString()! + Tail(result.Stderr));
            }
            if (result.Status == "ok" && root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("functions", out var f) && f.ValueKind == JsonValueKind.Array
                && root.TryGetProperty("events", out var e) && e.ValueKind == JsonValueKind.Array)
            {
                return new PluginOffer(f.GetRawText(), e.GetRawText());
            }
        }
        catch (JsonException)
        {
        }
        throw new PluginFailedException($"importing plugin {plugin.Id} in a sandbox job failed ({result.Status}"
            + (result.KilledBy is { } k ? ", " + k : "") + (result.Error is { } err ? ", " + err : "") + ")" + Tail(result.Stderr));
    }

    internal static string Tail(string output)
    {
        var text = output.Trim();
        if (text.Length == 0)
        {
            return "";
        }
        var lines = text.Split('\n');
        return ": " + string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3))).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await Task.WhenAll(_loaded.Keys.ToArray().Select(UnloadAsync));
        _events.Writer.TryComplete();
    }

    /// <summary>One loaded plugin: its restart loop and current incarnation.</summary>
    private sealed class Loaded
    {
        private readonly PluginSupervisor _owner;
        private readonly PluginLaunch _launch;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly DateTimeOffset _since;
        private volatile PluginProcess? _current;
        private volatile CancellationTokenSource? _incarnation;
        private volatile PluginOffer? _offer;
        private volatile string _state = "starting";
        private volatile bool _stopping;
        private volatile string? _lastError;
        private volatile string? _lastOutput;
        private int _restarts;
        private long _calls, _failures, _timedOut;

        public Loaded(PluginSupervisor owner, PluginLaunch launch)
        {
            _owner = owner;
            _launch = launch;
            _since = owner._time.GetUtcNow();
            _loop = Task.Run(RunAsync);
        }

        public TaskCompletionSource FirstReady { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public PluginRunState State() => new(_launch.Plugin.Id, _state, _offer, Volatile.Read(ref _restarts), _lastError, _lastOutput,
            Interlocked.Read(ref _calls), Interlocked.Read(ref _failures), Interlocked.Read(ref _timedOut), _since);

        public string OutputSuffix() => _lastOutput is { Length: > 0 } o ? ": " + o : "";

        private async Task RunAsync()
        {
            var backoff = TimeSpan.FromSeconds(1);
            var id = _launch.Plugin.Id;
            while (!_stop.IsCancellationRequested)
            {
                using var incarnation = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var process = new PluginProcess(id, _owner._events.Writer);
                _current = process;
                _incarnation = incarnation;
                var started = _owner._time.GetTimestamp();
                var job = _owner._runner.RunAsync(new JobRequest
                {
                    Script = JobPlugin.Script,
                    Plugin = _launch.Plugin with { Describe = false },
                    Channel = process.RunAsync,
                    MemoryBytes = _launch.MemoryBytes,
                    KeepOutputTail = true,
                }, incarnation.Token);
                _ = WatchReadyAsync(process);
                JobResult? result = null;
                string why;
                try
                {
                    result = await job;
                    why = result.Error ?? result.Status + (result.KilledBy is { } killed ? $" ({killed}" + (result.Syscall is { } sc ? ": " + sc : "") + ")" : "")
                        + (result.ExitCode is { } code ? $", exit {code}" : "");
                }
                catch (OperationCanceledException) when (incarnation.IsCancellationRequested)
                {
                    why = _stop.IsCancellationRequested ? "unloaded" : "ended by its supervisor (it did not answer a cancel)";
                }
                catch (SandboxException e)
                {
                    why = e.Message;
                }
                if (result is not null)
                {
                    _lastOutput = Tail(result.Stderr).TrimStart(':', ' ');
                }
                _current = null;
                if (_stopping || _stop.IsCancellationRequested)
                {
                    _state = "stopped";
                    return;
                }
                _lastError = "the process ended: " + why;
                FirstReady.TrySetException(new PluginFailedException($"plugin {id} did not start: " + (process.Ready.IsFaulted
                    ? process.Ready.Exception!.InnerException!.Message : why) + OutputSuffix()));
                if (!FirstReady.Task.IsCompletedSuccessfully)
                {
                    _state = "failed";
                    return; // a plugin that never started is not restarted: its loader is told why
                }
                _state = "restarting";
                Interlocked.Increment(ref _restarts);
                _owner._log.LogWarning("plugin {Plugin}: {Why}; restarting in {Seconds} s", id, _lastError, backoff.TotalSeconds);
                if (_owner._time.GetElapsedTime(started) > TimeSpan.FromMinutes(1))
                {
                    backoff = TimeSpan.FromSeconds(1);
                }
                try
                {
                    await Task.Delay(backoff, _owner._time, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    _state = "stopped";
                    return;
                }
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }
        }

        private async Task WatchReadyAsync(PluginProcess process)
        {
            try
            {
                _offer = await process.Ready;
                _state = "running";
                FirstReady.TrySetResult();
            }
            catch (PluginFailedException e)
            {
                _lastError = e.Message;
            }
        }

        public async Task<PluginCallOutcome> CallAsync(string function, string paramsJson, string? sourceDevice, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            if (_current is not { } process || _state != "running")
            {
                Interlocked.Increment(ref _failures);
                return new PluginCallOutcome(null, $"plugin {_launch.Plugin.Id} is {_state}" + (_lastError is { } e ? " (" + e + ")" : "") + "; try again later");
            }
            try
            {
                var outcome = await process.CallAsync(function, paramsJson, sourceDevice, _launch.CallTimeout, ct);
                if (outcome.Error is not null)
                {
                    Interlocked.Increment(ref _failures);
                }
                return outcome;
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref _timedOut);
                _ = EnforceCancelAsync(process);
                return new PluginCallOutcome(null, $"Error invoking {function}: no result within {_launch.CallTimeout.TotalSeconds:0.#} s (the plugin's timeout_s); cancelled");
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
            {
                Interlocked.Increment(ref _failures);
                return new PluginCallOutcome(null, $"plugin {_launch.Plugin.Id}'s process is not reachable ({e.Message}); try again later");
            }
        }

        /// <summary>After a cancel: a process whose event loop runs answers at once; one that still holds the call is ended.</summary>
        private async Task EnforceCancelAsync(PluginProcess process)
        {
            await Task.Delay(CancelGrace, _owner._time);
            if (ReferenceEquals(_current, process) && process.HasUnansweredCancel(CancelGrace))
            {
                _owner._log.LogWarning("plugin {Plugin}: a cancelled call is still running after {Seconds} s; ending its process", _launch.Plugin.Id, CancelGrace.TotalSeconds);
                _lastError = "a call did not end when cancelled; the process was ended";
                try
                {
                    _incarnation?.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public async Task StopAsync()
        {
            _stopping = true;
            if (_current is { } process)
            {
                await process.StopAsync();
                // Its stop() gets a moment; then the job is ended whatever it does.
                await Task.WhenAny(_loop, Task.Delay(CancelGrace));
            }
            await _stop.CancelAsync();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
            FirstReady.TrySetException(new PluginFailedException($"plugin {_launch.Plugin.Id} was unloaded"));
            _ = FirstReady.Task.Exception;
        }
    }
}
