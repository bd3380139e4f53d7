using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using BoxBot.Mesh.Wire;
using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh.Device;

/// <summary>A call of a device's function, as its handler sees it.</summary>
/// <param name="Function">The function's name.</param>
/// <param name="Params">The params, already checked against the function's schema (without <c>_dc_meta</c>).</param>
/// <param name="Caller">The caller's inbox (<see cref="CallerLimiter.KeyOf"/>).</param>
/// <param name="MetaJson">What the caller says about itself (<c>_dc_meta</c>), unverified: for the record only.</param>
public sealed record DeviceCall(string Function, JsonElement Params, string Caller, string? MetaJson);

/// <summary>A function's handler: returns its result as JSON (any value), or throws <see cref="DeviceFunctionException"/>.</summary>
public delegate ValueTask<byte[]> DeviceFunctionHandler(DeviceCall call, CancellationToken cancellationToken);

/// <summary>A function failed in a way its caller should read: the reply is <c>-32000 "Error invoking {fn}: {message}"</c>.</summary>
public sealed class DeviceFunctionException(string message) : Exception(message);

/// <summary>Limits of a device's command handling.</summary>
public sealed record MeshDeviceOptions
{
    /// <summary>Largest request and reply (the portal and the reference cap at 900,000 bytes of JSON).</summary>
    public int MaxMessageBytes { get; init; } = 900 * 1024;

    /// <summary>Calls per minute from one caller's inbox.</summary>
    public int CallsPerCallerPerMinute { get; init; } = 120;

    /// <summary>Calls per minute from everyone together.</summary>
    public int CallsPerMinute { get; init; } = 1200;

    /// <summary>Calls handled at once; more are answered "busy" at once.</summary>
    public int MaxConcurrentCalls { get; init; } = 8;

    /// <summary>How long a handler may take: well inside the portal's 5 s.</summary>
    public TimeSpan HandlerTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long to wait for the registry's answer to <c>registerDevice</c>.</summary>
    public TimeSpan RegisterTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// One Device Connect device served over a <see cref="MeshClient"/>: answers its <c>cmd</c> subject (params checked
/// against each function's schema first; unknown methods, failures, oversize and floods answered as the reference
/// answers, without stack traces), registers with a registry when one answers (and again on request or reconnect),
/// heartbeats every ttl/3, and announces its presence for registry-less discovery (D2D), answering probes.
/// </summary>
public sealed class MeshDevice : IAsyncDisposable
{
    private static readonly TimeSpan PresenceBurst = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PresenceFast = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan PresenceSlow = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RegistryRetryMax = TimeSpan.FromSeconds(30);

    private readonly MeshClient _client;
    private readonly string _tenant;
    private readonly DeviceSpec _base;
    private volatile DeviceSpec _spec;
    private volatile Dictionary<string, Function> _functions;
    private readonly MeshDeviceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CallerLimiter _limiter;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly SemaphoreSlim _registerNow = new(0, 1);
    private MeshSubscription? _cmd;
    private MeshSubscription? _probes;
    private long _calls, _refused, _rateLimited, _failed;
    private volatile string _registry = "not yet asked";

    public MeshDevice(MeshClient client, string tenant, DeviceSpec spec, IReadOnlyDictionary<string, DeviceFunctionHandler> handlers,
        MeshDeviceOptions options, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(handlers);
        _client = client;
        _tenant = tenant;
        _base = spec;
        _spec = spec;
        _options = options;
        _logger = logger;
        _time = time;
        _limiter = new CallerLimiter(options.CallsPerCallerPerMinute, options.CallsPerMinute, time);
        _slots = new SemaphoreSlim(options.MaxConcurrentCalls);
        _functions = new Dictionary<string, Function>(StringComparer.Ordinal);
        foreach (var f in spec.Functions)
        {
            if (!handlers.TryGetValue(f.Name, out var handler))
            {
                throw new ArgumentException($"function {f.Name} of device {spec.DeviceId} has no handler", nameof(handlers));
            }
            _functions.Add(f.Name, new Function(f, JsonDocument.Parse(f.ParametersSchema), handler, null));
        }
    }

    /// <summary>One function of the device: its advertised spec, its parsed schema, its handler and time limit (null: the device's).</summary>
    private sealed record Function(FunctionSpec Spec, JsonDocument Schema, DeviceFunctionHandler Handler, TimeSpan? Timeout);

    /// <summary>
    /// Sets the functions the device offers beyond those it was made with (a loaded plugin's), each with its own time
    /// limit, and registers again so the registry and presence listeners see the change. A name the device already has is
    /// refused. Calls in flight finish with the handler they started with.
    /// </summary>
    public void SetExtraFunctions(IReadOnlyList<(FunctionSpec Spec, DeviceFunctionHandler Handler, TimeSpan Timeout)> extra)
    {
        ArgumentNullException.ThrowIfNull(extra);
        var functions = new Dictionary<string, Function>(StringComparer.Ordinal);
        foreach (var f in _base.Functions)
        {
            functions.Add(f.Name, _functions[f.Name] with { });
        }
        foreach (var (spec, handler, timeout) in extra)
        {
            if (!functions.TryAdd(spec.Name, new Function(spec, JsonDocument.Parse(spec.ParametersSchema), handler, timeout)))
            {
                throw new ArgumentException($"device {_base.DeviceId} already has a function named {spec.Name}", nameof(extra));
            }
        }
        _spec = _base with { Functions = [.. _base.Functions, .. extra.Select(e => e.Spec)] };
        _functions = functions;
        OnReconnected();
        if (_cmd is not null && !_stop.IsCancellationRequested)
        {
            // Listeners without a registry learn the change now, not at the next presence.
            _ = PublishQuietlyAsync(MeshSubjects.Presence(_tenant, _spec.DeviceId), Presence(), _stop.Token);
        }
    }

    /// <summary>The functions the device offers now.</summary>
    public IReadOnlyList<FunctionSpec> Functions => _spec.Functions;

    public string DeviceId => _spec.DeviceId;

    /// <summary>"registered", "no registry (presence only)", or why registering failed last.</summary>
    public string RegistryState => _registry;

    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Calls refused before their function ran: bad params, unknown methods, malformed or oversize requests, busy.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public long RateLimited => Interlocked.Read(ref _rateLimited);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Subscribes (returns once the broker routes commands here), then registers, heartbeats and announces in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _cmd = await _client.SubscribeLiveAsync(MeshSubjects.Cmd(_tenant, _spec.DeviceId), cancellationToken);
        _probes = await _client.SubscribeLiveAsync(MeshSubjects.DiscoveryProbe(_tenant), cancellationToken);
        _client.Reconnected += OnReconnected;
        _loops.Add(Task.Run(() => ServeAsync(_cmd, _stop.Token)));
        _loops.Add(Task.Run(() => AnswerProbesAsync(_probes, _stop.Token)));
        _loops.Add(Task.Run(() => RegisterLoopAsync(_stop.Token)));
        _loops.Add(Task.Run(() => HeartbeatLoopAsync(_stop.Token)));
        _loops.Add(Task.Run(() => PresenceLoopAsync(_stop.Token)));
    }

    /// <summary>Publishes event <paramref name="name"/> with the params <paramref name="writeParams"/> writes, plus event_id, ts and device_id.</summary>
    public ValueTask PublishEventAsync(string name, Action<Utf8JsonWriter> writeParams, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeParams);
        var now = _time.GetUtcNow();
        var body = RpcRequest.Notification(name, w =>
        {
            writeParams(w);
            w.WriteString("event_id"u8, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
            w.WriteString("ts"u8, WireTime.Iso(now));
            // The reference leaves it out (subscribers take it from the subject); its agent tools read it from params.
            w.WriteString("device_id"u8, _spec.DeviceId);
        });
        return _client.PublishAsync(MeshSubjects.Event(_tenant, _spec.DeviceId, name), body, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Reconnected -= OnReconnected;
        await _stop.CancelAsync();
        if (_client.IsConnected)
        {
            try
            {
                // A device leaving says so (the reference does in D2D mode); a registry notices the missing heartbeats anyway.
                await _client.PublishAsync(MeshSubjects.Presence(_tenant, _spec.DeviceId), WireJson.Object(w =>
                {
                    w.WriteString("device_id"u8, _spec.DeviceId);
                    w.WriteString("tenant"u8, _tenant);
                    w.WriteBoolean("departing"u8, true);
                    w.WriteNumber("ts"u8, WireTime.Epoch(_time.GetUtcNow()));
                }));
            }
            catch (Exception e) when (e is MeshException or ObjectDisposedException)
            {
                // Leaving anyway.
            }
        }
        foreach (var sub in new[] { _cmd, _probes })
        {
            if (sub is not null)
            {
                await sub.DisposeAsync();
            }
        }
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
        // Schemas are left to the collector: a replaced function table may still be in use by a call in flight.
        _stop.Dispose();
        _slots.Dispose();
        _registerNow.Dispose();
    }

    private void OnReconnected()
    {
        // The reference re-registers on every reconnect: a registry that restarted has forgotten us.
        try
        {
            _registerNow.Release();
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(MeshSubscription cmd, CancellationToken stop)
    {
        await foreach (var message in cmd.ReadAllAsync(stop))
        {
            if (message.Data.Length > _options.MaxMessageBytes)
            {
                Interlocked.Increment(ref _refused);
                await ReplyAsync(message, RpcRequest.Error("null", new RpcError(RpcCodes.InvalidRequest,
                    $"Invalid Request: {message.Data.Length} bytes, over the {_options.MaxMessageBytes}-byte limit")));
                continue;
            }
            var caller = CallerLimiter.KeyOf(message.ReplyTo);
            var admission = _limiter.Take(caller);
            if (admission != Admission.Admitted)
            {
                // Over the limit: counted; told once a second, else not answered (answering a flood would only feed it).
                Interlocked.Increment(ref _rateLimited);
                if (admission == Admission.Refused && message.ReplyTo is not null)
                {
                    await ReplyAsync(message, RpcRequest.Error(RawIdOf(message), new RpcError(RpcCodes.FunctionFailed,
                        $"Rate limited: at most {_options.CallsPerCallerPerMinute} calls a minute from one caller and {_options.CallsPerMinute} from all; try again later")));
                }
                continue;
            }
            if (!await _slots.WaitAsync(0, stop))
            {
                Interlocked.Increment(ref _refused);
                await ReplyAsync(message, RpcRequest.Error(RawIdOf(message), new RpcError(RpcCodes.FunctionFailed, "Busy: too many calls at once; try again")));
                continue;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await HandleAsync(message, caller, stop);
                }
                finally
                {
                    _slots.Release();
                }
            }, CancellationToken.None);
        }
    }

    private async Task HandleAsync(MeshMessage message, string caller, CancellationToken stop)
    {
        var (request, error, replyId) = RpcRequest.Parse(message.Data.Span);
        if (request is null)
        {
            Interlocked.Increment(ref _refused);
            if (replyId is not null)
            {
                await ReplyAsync(message, RpcRequest.Error(replyId, error!));
            }
            return;
        }
        if (request.Method == "requestRegistration")
        {
            // The registry pulls our registration (it restarted, or our lease ran out).
            if (request.RawId is not null)
            {
                await ReplyAsync(message, RpcRequest.Result(request.RawId, WireJson.Object(w => _spec.WriteRegistration(w, _time.GetUtcNow()))));
            }
            _registry = "registered";
            return;
        }
        if (!_functions.TryGetValue(request.Method, out var function))
        {
            Interlocked.Increment(ref _refused);
            if (request.RawId is not null)
            {
                await ReplyAsync(message, RpcRequest.Error(request.RawId, new RpcError(RpcCodes.MethodNotFound, $"Unknown method: {request.Method}")));
            }
            return;
        }
        using var parameters = JsonDocument.Parse(request.ParamsJson);
        if (ParamSchema.Check(parameters.RootElement, function.Schema.RootElement) is { } problem)
        {
            Interlocked.Increment(ref _refused);
            if (request.RawId is not null)
            {
                await ReplyAsync(message, RpcRequest.Error(request.RawId, new RpcError(RpcCodes.InvalidParams, $"Invalid params for {request.Method}: {problem}")));
            }
            return;
        }
        Interlocked.Increment(ref _calls);
        byte[] reply;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            var limit = function.Timeout ?? _options.HandlerTimeout;
            timeout.CancelAfter(limit);
            try
            {
                var result = await function.Handler(new DeviceCall(request.Method, parameters.RootElement, caller, request.MetaJson), timeout.Token);
                reply = result.Length + 64 > _options.MaxMessageBytes
                    ? Failure(request, $"the result is {result.Length} bytes, over the {_options.MaxMessageBytes}-byte limit")
                    : RpcRequest.Result(request.RawId ?? "null", result);
            }
            catch (DeviceFunctionException e)
            {
                reply = Failure(request, e.Message);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
            {
                reply = Failure(request, $"no result within {limit.TotalSeconds:0.#} s");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "mesh device {Device}: {Function} failed", _spec.DeviceId, request.Method);
                reply = Failure(request, "internal error (logged on the box)");
            }
        }
        if (request.RawId is not null)
        {
            await ReplyAsync(message, reply);
        }
    }

    private byte[] Failure(RpcRequest request, string message)
    {
        Interlocked.Increment(ref _failed);
        return RpcRequest.Error(request.RawId ?? "null", new RpcError(RpcCodes.FunctionFailed, $"Error invoking {request.Method}: {message}"));
    }

    private async Task ReplyAsync(MeshMessage message, byte[] reply)
    {
        if (message.ReplyTo is null)
        {
            return;
        }
        try
        {
            await message.ReplyAsync(reply);
        }
        catch (Exception e) when (e is MeshException or ObjectDisposedException)
        {
            _logger.LogDebug("mesh device {Device}: reply lost: {Reason}", _spec.DeviceId, e.Message);
        }
    }

    private static string RawIdOf(MeshMessage message)
    {
        try
        {
            using var document = JsonDocument.Parse(message.Data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id"u8, out var id)
                && id.ValueKind is JsonValueKind.String or JsonValueKind.Number ? id.GetRawText() : "null";
        }
        catch (JsonException)
        {
            return "null";
        }
    }

    private async Task RegisterLoopAsync(CancellationToken stop)
    {
        var wait = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            var id = $"{_spec.DeviceId}-{_time.GetUtcNow().ToUnixTimeMilliseconds()}";
            var body = RpcRequest.Build(id, "registerDevice", System.Text.Encoding.UTF8.GetString(WireJson.Object(w => _spec.WriteRegistration(w, _time.GetUtcNow()))));
            TimeSpan next;
            try
            {
                var reply = RpcReply.Parse((await _client.RequestAsync(MeshSubjects.Registry(_tenant), body, _options.RegisterTimeout, stop)).Span);
                if (reply.Error is { } error)
                {
                    _registry = $"refused by the registry: {error.Message}";
                    next = wait;
                }
                else if (RegistrationId(reply.ResultJson) is { } registration)
                {
                    _registry = "registered";
                    _logger.LogInformation("mesh device {Device} registered ({Registration})", _spec.DeviceId, registration);
                    next = Timeout.InfiniteTimeSpan;
                    wait = TimeSpan.FromSeconds(0.5);
                }
                else
                {
                    _registry = "the registry's reply has no device_registration_id (a UUID)";
                    next = wait;
                }
            }
            catch (MeshException e) when (e.Kind == MeshErrorKind.NoResponders)
            {
                _registry = "no registry (presence only)";
                next = RegistryRetryMax;
            }
            catch (MeshException e)
            {
                _registry = "registering: " + e.Message;
                next = wait;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            wait = wait * 2 > RegistryRetryMax ? RegistryRetryMax : wait * 2;
            try
            {
                await _registerNow.WaitAsync(next, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string? RegistrationId(string? resultJson)
    {
        if (resultJson is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(resultJson);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("device_registration_id"u8, out var id) && id.ValueKind == JsonValueKind.String
            && Guid.TryParse(id.GetString(), out _) ? id.GetString() : null;
    }

    private async Task HeartbeatLoopAsync(CancellationToken stop)
    {
        var every = TimeSpan.FromSeconds(Math.Max(1.0, _spec.TtlSeconds / 3.0));
        while (!stop.IsCancellationRequested)
        {
            await PublishQuietlyAsync(MeshSubjects.Heartbeat(_tenant, _spec.DeviceId), WireJson.Object(w =>
            {
                w.WriteString("device_id"u8, _spec.DeviceId);
                w.WriteNumber("ts"u8, WireTime.Epoch(_time.GetUtcNow()));
            }), stop);
            if (!await DelayAsync(every, stop))
            {
                return;
            }
        }
    }

    private async Task PresenceLoopAsync(CancellationToken stop)
    {
        var started = _time.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            await PublishQuietlyAsync(MeshSubjects.Presence(_tenant, _spec.DeviceId), Presence(), stop);
            if (!await DelayAsync(_time.GetElapsedTime(started) < PresenceBurst ? PresenceFast : PresenceSlow, stop))
            {
                return;
            }
        }
    }

    private async Task AnswerProbesAsync(MeshSubscription probes, CancellationToken stop)
    {
        await foreach (var _ in probes.ReadAllAsync(stop))
        {
            await PublishQuietlyAsync(MeshSubjects.Presence(_tenant, _spec.DeviceId), Presence(), stop);
        }
    }

    private byte[] Presence() => WireJson.Object(w =>
    {
        var now = _time.GetUtcNow();
        w.WriteString("device_id"u8, _spec.DeviceId);
        _spec.WriteDescription(w, now);
        w.WriteNumber("ts"u8, WireTime.Epoch(now));
        w.WriteBoolean("d2d"u8, true);
    });

    private async Task PublishQuietlyAsync(string subject, byte[] body, CancellationToken stop)
    {
        try
        {
            await _client.PublishAsync(subject, body, stop);
        }
        catch (Exception e) when (e is MeshException or ObjectDisposedException)
        {
            _logger.LogDebug("mesh device {Device}: publish on {Subject} failed: {Reason}", _spec.DeviceId, subject, e.Message);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _time, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
