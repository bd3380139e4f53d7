using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BoxBot.Mesh.Wire;
using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh.Discovery;

/// <summary>What the box knows of one device on the mesh.</summary>
/// <param name="DeviceId">Its id.</param>
/// <param name="DeviceType">Its <c>identity.device_type</c>, when known.</param>
/// <param name="Online">Heard from within its ttl (a heartbeat, its presence, the registry), and not reported offline since.</param>
/// <param name="LastSeen">When it was last heard from, if ever.</param>
/// <param name="Source"><c>registry</c> or <c>presence</c>: where its description came from.</param>
/// <param name="DescriptionJson"><c>{device_id, capabilities, identity, status}</c> as JSON, when known.</param>
public sealed record MeshDeviceInfo(string DeviceId, string? DeviceType, bool Online, DateTimeOffset? LastSeen, string Source, string? DescriptionJson)
{
    /// <summary>Its functions' names and parameter schemas (raw JSON), from its description.</summary>
    public IReadOnlyList<(string Name, string Description, string ParametersJson)> Functions()
    {
        if (DescriptionJson is null)
        {
            return [];
        }
        using var document = JsonDocument.Parse(DescriptionJson);
        if (!document.RootElement.TryGetProperty("capabilities"u8, out var capabilities) || capabilities.ValueKind != JsonValueKind.Object
            || !capabilities.TryGetProperty("functions"u8, out var functions) || functions.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var list = new List<(string, string, string)>();
        foreach (var f in functions.EnumerateArray())
        {
            if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name"u8, out var name) && name.ValueKind == JsonValueKind.String)
            {
                var description = f.TryGetProperty("description"u8, out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                var parameters = f.TryGetProperty("parameters"u8, out var p) && p.ValueKind == JsonValueKind.Object ? p.GetRawText() : "{\"type\":\"object\"}";
                list.Add((name.GetString()!, description, parameters));
            }
        }
        return list;
    }
}

/// <summary>
/// The devices of the tenant, as the box sees them: from a registry when one answers (<c>discovery/listDevices</c>,
/// <c>discovery/getDevice</c>), and from what devices announce themselves (presence, heartbeats, the registry's
/// online/offline notices) either way. A device not heard from within its ttl (presence-only devices: 30 s) is offline.
/// </summary>
public sealed class DeviceDirectory : IAsyncDisposable
{
    private static readonly TimeSpan PresenceLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RegistryTimeout = TimeSpan.FromSeconds(3);
    private const int MaxDevices = 1000;

    private readonly MeshClient _client;
    private readonly string _tenant;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _devices = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<MeshSubscription> _subscriptions = [];
    private readonly List<Task> _loops = [];

    public DeviceDirectory(MeshClient client, string tenant, ILogger logger, TimeProvider time)
    {
        _client = client;
        _tenant = tenant;
        _logger = logger;
        _time = time;
    }

    /// <summary>Listens to presence, heartbeats and the registry's notices, then asks every device to announce itself.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var p = MeshSubjects.Prefix(_tenant);
        foreach (var (subject, handle) in new (string, Action<MeshMessage>)[]
        {
            (p + ".*.presence", OnPresence),
            (p + ".*.heartbeat", OnHeartbeat),
            (p + ".device.>", OnNotice),
        })
        {
            var sub = await _client.SubscribeLiveAsync(subject, cancellationToken);
            _subscriptions.Add(sub);
            _loops.Add(Task.Run(async () =>
            {
                await foreach (var message in sub.ReadAllAsync(_stop.Token))
                {
                    try
                    {
                        handle(message);
                    }
                    catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
                    {
                        _logger.LogDebug("mesh directory: ignored a malformed message on {Subject}: {Reason}", message.Subject, e.Message);
                    }
                }
            }));
        }
        await _client.PublishAsync(MeshSubjects.DiscoveryProbe(_tenant), Encoding.UTF8.GetBytes(
            $"{{\"probe\":true,\"ts\":{WireTime.Epoch(_time.GetUtcNow()).ToString(CultureInfo.InvariantCulture)}}}"), cancellationToken);
    }

    /// <summary>Every device known, by id; with a registry, its list is asked for and merged in (and <paramref name="registryAnswered"/> says so).</summary>
    public async Task<(IReadOnlyList<MeshDeviceInfo> Devices, bool RegistryAnswered)> ListAsync(CancellationToken cancellationToken)
    {
        var answered = false;
        try
        {
            for (var offset = 0; offset < MaxDevices;)
            {
                var reply = await AskRegistryAsync("discovery/listDevices", $"{{\"offset\":{offset},\"limit\":200}}", cancellationToken);
                if (reply is null)
                {
                    break;
                }
                answered = true;
                using var document = JsonDocument.Parse(reply);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("devices"u8, out var devices) || devices.ValueKind != JsonValueKind.Array)
                {
                    break;
                }
                // What a registry relays was written by the devices themselves: anything but an object is passed over.
                foreach (var device in devices.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Object))
                {
                    Learn(device, "registry");
                }
                // The reference sends "next_offset": null on the last page (and none at all in its legacy replies).
                if (!root.TryGetProperty("next_offset"u8, out var next) || next.ValueKind != JsonValueKind.Number || !next.TryGetInt32(out offset) || offset <= 0)
                {
                    break;
                }
            }
        }
        catch (MeshException e)
        {
            _logger.LogDebug("mesh directory: the registry did not answer: {Reason}", e.Message);
        }
        return (Snapshot(), answered);
    }

    /// <summary>What is known of <paramref name="deviceId"/> (asking the registry when one answers), or null.</summary>
    public async Task<MeshDeviceInfo?> DescribeAsync(string deviceId, CancellationToken cancellationToken)
    {
        if (!MeshSubjects.IsValidToken(deviceId))
        {
            return null;
        }
        try
        {
            var reply = await AskRegistryAsync("discovery/getDevice", $"{{\"device_id\":{JsonSerializer.Serialize(deviceId, MeshWireJson.Default.String)}}}", cancellationToken);
            if (reply is not null)
            {
                using var document = JsonDocument.Parse(reply);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("device"u8, out var device)
                    && device.ValueKind == JsonValueKind.Object)
                {
                    Learn(device, "registry");
                }
            }
        }
        catch (MeshException e)
        {
            _logger.LogDebug("mesh directory: the registry did not answer: {Reason}", e.Message);
        }
        return Snapshot().FirstOrDefault(d => d.DeviceId == deviceId);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var sub in _subscriptions)
        {
            await sub.DisposeAsync();
        }
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
        _stop.Dispose();
    }

    private async Task<string?> AskRegistryAsync(string method, string paramsJson, CancellationToken cancellationToken)
    {
        var id = "rpc-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        ReadOnlyMemory<byte> raw;
        try
        {
            raw = await _client.RequestAsync(MeshSubjects.Discovery(_tenant), RpcRequest.Build(id, method, paramsJson), RegistryTimeout, cancellationToken);
        }
        catch (MeshException e) when (e.Kind is MeshErrorKind.NoResponders or MeshErrorKind.Timeout)
        {
            return null;
        }
        var reply = RpcReply.Parse(raw.Span);
        return reply.Error is null ? reply.ResultJson : throw new MeshException(MeshErrorKind.Failed, $"the registry refused {method}: {reply.Error.Message}");
    }

    private IReadOnlyList<MeshDeviceInfo> Snapshot()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            return [.. _devices.Values.OrderBy(d => d.DeviceId, StringComparer.Ordinal).Select(d => new MeshDeviceInfo(
                d.DeviceId, d.DeviceType, d.LastSeen is { } seen && !d.ReportedOffline && now - seen <= d.Lifetime, d.LastSeen, d.Source, d.DescriptionJson))];
        }
    }

    private void OnPresence(MeshMessage message)
    {
        using var document = JsonDocument.Parse(message.Data);
        var root = document.RootElement;
        var id = MeshSubjects.DeviceOf(message.Subject, _tenant, "presence");
        if (id is null || root.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (root.TryGetProperty("departing"u8, out var departing) && departing.ValueKind == JsonValueKind.True)
        {
            lock (_lock)
            {
                if (_devices.TryGetValue(id, out var known))
                {
                    known.ReportedOffline = true;
                }
            }
            return;
        }
        // The id is the subject's, which the broker lets only that device publish to; the payload's must agree.
        if (root.TryGetProperty("device_id"u8, out var claimed) && claimed.ValueKind == JsonValueKind.String && claimed.GetString() == id)
        {
            Learn(root, "presence", PresenceLifetime);
        }
    }

    private void OnHeartbeat(MeshMessage message)
    {
        if (MeshSubjects.DeviceOf(message.Subject, _tenant, "heartbeat") is { } id)
        {
            Touch(id, offline: false);
        }
    }

    private void OnNotice(MeshMessage message)
    {
        using var document = JsonDocument.Parse(message.Data);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("params"u8, out var p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("device_id"u8, out var id) && id.ValueKind == JsonValueKind.String && MeshSubjects.IsValidToken(id.GetString()))
        {
            Touch(id.GetString()!, offline: message.Subject.EndsWith(".offline", StringComparison.Ordinal));
        }
    }

    private void Touch(string id, bool offline)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(id, out var entry))
            {
                if (_devices.Count >= MaxDevices)
                {
                    return;
                }
                entry = _devices[id] = new Entry(id);
            }
            entry.ReportedOffline = offline;
            if (!offline)
            {
                entry.LastSeen = _time.GetUtcNow();
            }
        }
    }

    private void Learn(JsonElement device, string source, TimeSpan? lifetime = null)
    {
        if (!device.TryGetProperty("device_id"u8, out var idElement) || idElement.ValueKind != JsonValueKind.String || !MeshSubjects.IsValidToken(idElement.GetString()))
        {
            return;
        }
        var id = idElement.GetString()!;
        var type = device.TryGetProperty("identity"u8, out var identity) && identity.ValueKind == JsonValueKind.Object
            && identity.TryGetProperty("device_type"u8, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var ttl = device.TryGetProperty("device_ttl"u8, out var ttlElement) && ttlElement.ValueKind == JsonValueKind.Number && ttlElement.TryGetInt32(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var online = !(device.TryGetProperty("status"u8, out var status) && status.ValueKind == JsonValueKind.Object
            && status.TryGetProperty("online"u8, out var o) && o.ValueKind == JsonValueKind.False);
        var description = Describe(device);
        lock (_lock)
        {
            if (!_devices.TryGetValue(id, out var entry))
            {
                if (_devices.Count >= MaxDevices)
                {
                    return;
                }
                entry = _devices[id] = new Entry(id);
            }
            entry.DeviceType = type ?? entry.DeviceType;
            entry.DescriptionJson = description;
            entry.Source = source;
            entry.Lifetime = ttl ?? lifetime ?? entry.Lifetime;
            if (source == "presence" || online)
            {
                entry.LastSeen ??= _time.GetUtcNow();
                if (source == "presence")
                {
                    entry.LastSeen = _time.GetUtcNow();
                    entry.ReportedOffline = false;
                }
            }
        }
    }

    // {device_id, capabilities, identity, status}: the parts of a registration or presence that describe the device.
    private static string Describe(JsonElement device)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var name in new[] { "device_id", "device_ttl", "capabilities", "identity", "status" })
            {
                if (device.TryGetProperty(name, out var value))
                {
                    w.WritePropertyName(name);
                    value.WriteTo(w);
                }
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed class Entry(string id)
    {
        public string DeviceId { get; } = id;
        public string? DeviceType { get; set; }
        public string? DescriptionJson { get; set; }
        public string Source { get; set; } = "presence";
        public DateTimeOffset? LastSeen { get; set; }
        public bool ReportedOffline { get; set; }
        public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(15);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class MeshWireJson : System.Text.Json.Serialization.JsonSerializerContext;
