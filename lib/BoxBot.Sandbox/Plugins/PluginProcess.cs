using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;

namespace BoxBot.Sandbox.Plugins;

/// <summary>What a plugin's process said it offers once it started: the functions and events as JSON arrays.</summary>
public sealed record PluginOffer(string FunctionsJson, string EventsJson);

/// <summary>One event a plugin emitted (an <c>@emit</c> method ran): its name and payload object.</summary>
public sealed record PluginEvent(string PluginId, string Name, string PayloadJson);

/// <summary>The outcome of one call: the result's JSON, or the error message the caller is told.</summary>
public sealed record PluginCallOutcome(string? ResultJson, string? Error);

/// <summary>
/// The runner's end of one incarnation of a plugin's process: the line protocol of <c>device_connect_edge/_runner.py</c>
/// over the job's socket. Every line from the plugin is untrusted: malformed ones end the channel, answers to calls that
/// were never made are dropped, and no line may exceed <see cref="MaxLineBytes"/>.
/// </summary>
public sealed class PluginProcess
{
    public const int MaxLineBytes = 1024 * 1024;
    private readonly string _pluginId;
    private readonly ChannelWriter<PluginEvent> _events;
    private readonly TaskCompletionSource<PluginOffer> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<PluginCallOutcome>> _calls = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ConcurrentDictionary<long, long> _cancelled = new();
    private Socket? _socket;
    private long _nextId;
    private volatile string? _ended;
    private long _eventsDropped;

    public PluginProcess(string pluginId, ChannelWriter<PluginEvent> events)
    {
        _pluginId = pluginId;
        _events = events;
    }

    /// <summary>Completes when the plugin is ready (its offer), or faults with what it said (or that it ended first).</summary>
    public Task<PluginOffer> Ready => _ready.Task;

    public int PendingCalls => _calls.Count;

    public long EventsDropped => Interlocked.Read(ref _eventsDropped);

    /// <summary>Serves the job's socket (a <see cref="JobRequest.Channel"/>) until the plugin closes it or <paramref name="ct"/> ends.</summary>
    public async Task RunAsync(Socket socket, CancellationToken ct)
    {
        _socket = socket;
        var buffer = new byte[MaxLineBytes + 1];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
                if (read == 0)
                {
                    return;
                }
                filled += read;
                var start = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start)) >= 0)
                {
                    if (!Handle(buffer.AsSpan(start, newline - start)))
                    {
                        return;
                    }
                    start = newline + 1;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                if (filled == buffer.Length)
                {
                    Fail($"the plugin wrote a line longer than {MaxLineBytes} bytes");
                    return;
                }
            }
        }
        finally
        {
            Ended("the plugin's process ended");
        }
    }

    /// <summary>Calls <paramref name="function"/> and waits up to <paramref name="timeout"/>; past it the plugin is told to cancel.</summary>
    public async Task<PluginCallOutcome> CallAsync(string function, string paramsJson, string? sourceDevice, TimeSpan timeout, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId);
        var pending = new TaskCompletionSource<PluginCallOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = pending;
        try
        {
            if (_ended is { } ended)
            {
                return new PluginCallOutcome(null, ended);
            }
            await SendAsync(w =>
            {
                w.WriteNumber("id"u8, id);
                w.WriteString("method"u8, "call"u8);
                w.WriteStartObject("params"u8);
                w.WriteString("function"u8, function);
                w.WritePropertyName("params"u8);
                w.WriteRawValue(paramsJson, skipInputValidation: false);
                if (sourceDevice is not null)
                {
                    w.WriteString("source_device"u8, sourceDevice);
                }
                w.WriteEndObject();
            }, ct);
            return await pending.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            _cancelled[id] = Environment.TickCount64;
            await TrySendAsync(w =>
            {
                w.WriteNumber("id"u8, id);
                w.WriteString("method"u8, "cancel"u8);
            });
            throw;
        }
        finally
        {
            _calls.TryRemove(id, out _);
        }
    }

    /// <summary>Whether a call cancelled more than <paramref name="olderThan"/> ago is still unanswered (the plugin is stuck).</summary>
    public bool HasUnansweredCancel(TimeSpan olderThan) =>
        _ended is null && _cancelled.Values.Any(at => Environment.TickCount64 - at >= (long)olderThan.TotalMilliseconds);

    /// <summary>Asks the plugin to stop (its <c>stop()</c> runs, then it exits).</summary>
    public Task StopAsync() => TrySendAsync(w => w.WriteString("method"u8, "stop"u8));

    private async Task TrySendAsync(Action<Utf8JsonWriter> write)
    {
        try
        {
            await SendAsync(write, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or TimeoutException or InvalidOperationException)
        {
            // The process is gone or stuck; its supervisor ends it.
        }
    }

    private async Task SendAsync(Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        var socket = _socket ?? throw new InvalidOperationException("the plugin's process has not connected");
        var line = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(line))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        line.Write("\n"u8);
        await _writing.WaitAsync(ct);
        try
        {
            var bytes = line.WrittenMemory;
            while (bytes.Length > 0)
            {
                var sent = await socket.SendAsync(bytes, SocketFlags.None, ct);
                bytes = bytes[sent..];
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>One line from the plugin; false when the channel must end.</summary>
    private bool Handle(ReadOnlySpan<byte> line)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException)
        {
            Fail("the plugin wrote a line that is not JSON");
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Fail("the plugin wrote a line that is not a JSON object");
                return false;
            }
            if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var id))
            {
                _cancelled.TryRemove(id, out _);
                if (_calls.TryGetValue(id, out var pending))
                {
                    pending.TrySetResult(root.TryGetProperty("error", out var error)
                        ? new PluginCallOutcome(null, MessageOf(error))
                        : new PluginCallOutcome(root.TryGetProperty("result", out var result) ? result.GetRawText() : "null", null));
                }
                return true; // an answer to a call that timed out, or never was: dropped
            }
            var method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var parameters = root.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
            switch (method)
            {
                case "ready" when parameters.ValueKind == JsonValueKind.Object:
                    var functions = parameters.TryGetProperty("functions", out var f) && f.ValueKind == JsonValueKind.Array ? f.GetRawText() : "[]";
                    var events = parameters.TryGetProperty("events", out var e) && e.ValueKind == JsonValueKind.Array ? e.GetRawText() : "[]";
                    _ready.TrySetResult(new PluginOffer(functions, events));
                    return true;
                case "failed":
                    Fail(parameters.ValueKind == JsonValueKind.Object ? MessageOf(parameters) : "the plugin failed to start");
                    return false;
                case "event" when parameters.ValueKind == JsonValueKind.Object:
                    if (parameters.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                        && parameters.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
                        && !_events.TryWrite(new PluginEvent(_pluginId, Truncate(name.GetString()!, 128), payload.GetRawText())))
                    {
                        Interlocked.Increment(ref _eventsDropped);
                    }
                    return true;
                default:
                    return true; // unknown notifications are ignored, as JSON-RPC peers do
            }
        }
    }

    private static string MessageOf(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
            ? Truncate(message.GetString()!, 2000)
            : "the plugin reported an error";

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    private void Fail(string message)
    {
        _ready.TrySetException(new PluginFailedException(message));
        Ended(message);
    }

    private void Ended(string why)
    {
        _ended ??= why;
        _ready.TrySetException(new PluginFailedException(why + " before it was ready"));
        foreach (var (_, pending) in _calls)
        {
            pending.TrySetResult(new PluginCallOutcome(null, why + " during the call"));
        }
    }
}

/// <summary>A plugin's process could not start or serve: the message says what it or the runner saw.</summary>
public sealed class PluginFailedException(string message) : Exception(message);
