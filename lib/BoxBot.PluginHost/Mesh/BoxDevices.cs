using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Mesh.Broker;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Wire;

namespace BoxBot.PluginHost.Mesh;

/// <summary>
/// The box's two devices on the mesh: <c>{box}</c> (ordinary functions, for the devices the broker lets call it) and
/// <c>{box}-admin</c> (the box's admin functions; the broker lets only admin users publish to its <c>cmd</c>).
/// </summary>
internal sealed class BoxDevices(MeshIdentity identity, MeshSettings settings, BoxPaths paths, BrokerAuthority? authority, TimeProvider time)
{
    private const int MaxNotifyText = 1000;
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private readonly CallerLimiter _notifyLimit = new(settings.NotifyPerMinute, settings.NotifyPerMinute * 4, time);
    private volatile AgentSeen? _agentSeen;

    private const string GetStatusSchema = """{"type": "object", "properties": {}, "required": [], "additionalProperties": false}""";

    private const string NotifySchema = """{"type": "object", "properties": {"text": {"type": "string", "description": "What to tell the household", "minLength": 1, "maxLength": 1000}, "priority": {"type": "string", "description": "How urgent", "enum": ["low", "normal", "high"], "default": "normal"}}, "required": ["text"], "additionalProperties": false}""";

    /// <summary>Notices handed to the agent, and refused (rate limit, agent away).</summary>
    public long Notices, NoticesRefused;

    public DeviceSpec BoxSpec => new(identity.BoxId, "boxbot", "A boxbot assistant box: it tells its household what devices ask it to.",
    [
        new FunctionSpec("get_status", "The box's name, version, uptime and which of its daemons are up (nothing private).", GetStatusSchema),
        new FunctionSpec("notify", "Tell the household something: the box's assistant reads it (as untrusted text from this device) and decides what to do.", NotifySchema),
    ], [], Identity: [new("manufacturer", "boxbot"), new("firmware_version", BuildInfo.Version)]);

    /// <summary>The box device's own function names (plugins' functions may not take them).</summary>
    public IReadOnlySet<string> FunctionNames => BoxSpec.Functions.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);

    public DeviceSpec AdminSpec => new(identity.AdminDeviceId, "boxbot_admin", "The admin functions of the boxbot box " + identity.BoxId + " (admin users only).",
    [
        new FunctionSpec("get_status", "The box's status as its admins see it: versions, mesh users, devices known.", GetStatusSchema),
    ], [], Identity: [new("manufacturer", "boxbot"), new("firmware_version", BuildInfo.Version)]);

    public Dictionary<string, DeviceFunctionHandler> BoxHandlers() => new()
    {
        ["get_status"] = (_, _) => ValueTask.FromResult(Status(admin: false)),
        ["notify"] = NotifyAsync,
    };

    public Dictionary<string, DeviceFunctionHandler> AdminHandlers() => new()
    {
        ["get_status"] = (_, _) => ValueTask.FromResult(Status(admin: true)),
    };

    private byte[] Status(bool admin)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("name", identity.BoxId);
            w.WriteString("version", BuildInfo.Version);
            w.WriteNumber("uptime_s", Math.Round((time.GetUtcNow() - _started).TotalSeconds));
            w.WriteStartObject("daemons");
            w.WriteString(Daemons.PluginHost.Name, "up");
            w.WriteString(Daemons.Agent.Name, AgentState());
            w.WriteEndObject();
            if (admin)
            {
                w.WriteString("tenant", identity.Tenant);
                w.WriteString("broker", settings.Broker.ToString().ToLowerInvariant());
                if (authority is not null)
                {
                    w.WriteNumber("mesh_users", authority.Users.Count);
                }
            }
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    // The agent answers on its socket (even a refusal is an answer): up; no answer: down. Asked at most once a second:
    // a status a second old is as true, and a caller polling get_status does not cost the agent a connection each time.
    private string AgentState()
    {
        var now = time.GetTimestamp();
        if (_agentSeen is { } seen && time.GetElapsedTime(seen.At, now) < TimeSpan.FromSeconds(1))
        {
            return seen.State;
        }
        var state = AskAgent();
        _agentSeen = new AgentSeen(state, now);
        return state;
    }

    private string AskAgent()
    {
        try
        {
            JsonRpcClient.CallOnce(paths.SocketPath(Daemons.Agent), SystemMethods.Status, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
                ContractsJsonContext.Default.SystemStatus, TimeSpan.FromSeconds(1));
            return "up";
        }
        catch (RpcException)
        {
            return "up";
        }
        catch (Exception e) when (e is IpcException or SocketException)
        {
            return "down";
        }
    }

    private async ValueTask<byte[]> NotifyAsync(DeviceCall call, CancellationToken cancellationToken)
    {
        var device = Attribute(call.Caller);
        if (!_notifyLimit.TryTake(device))
        {
            Interlocked.Increment(ref NoticesRefused);
            throw new DeviceFunctionException($"too many notices from {device}: at most {settings.NotifyPerMinute} a minute");
        }
        var notice = new MeshNotice
        {
            Device = device,
            ClaimedBy = ClaimedBy(call.MetaJson),
            Text = call.Params.GetProperty("text").GetString()!,
            Priority = call.Params.TryGetProperty("priority", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "normal",
        };
        try
        {
            await using var agent = await JsonRpcClient.ConnectAsync(paths.SocketPath(Daemons.Agent), cancellationToken);
            await agent.CallAsync(InboundMeshMethods.Notify, notice, MeshJsonContext.Default.MeshNotice, MeshJsonContext.Default.Done, TimeSpan.FromSeconds(3), cancellationToken);
        }
        catch (RpcException e)
        {
            Interlocked.Increment(ref NoticesRefused);
            throw new DeviceFunctionException("the box's agent refused it: " + e.Message);
        }
        catch (IpcException)
        {
            Interlocked.Increment(ref NoticesRefused);
            throw new DeviceFunctionException("the box's agent is not running; try again later");
        }
        Interlocked.Increment(ref Notices);
        return Encoding.UTF8.GetBytes("""{"status": "accepted"}""");
    }

    /// <summary>
    /// The calling device, as far as the broker tells: the inbox its reply goes to (<c>_INBOX_{user}</c>), when that names a
    /// device allowed to call the box. A caller can name another's inbox, but then never reads the reply; the name is a label
    /// for the household, never a privilege (the broker's grant to call the box is).
    /// </summary>
    private string Attribute(string caller)
    {
        const string prefix = "_INBOX_";
        if (authority is not null && caller.StartsWith(prefix, StringComparison.Ordinal))
        {
            var name = caller[prefix.Length..];
            if (authority.Users.Any(u => u.Name == name && u.Kind == MeshUser.DeviceKind && u.MayCall.Contains(identity.BoxId)))
            {
                return name;
            }
        }
        return "unattributed";
    }

    private static string? ClaimedBy(string? metaJson)
    {
        if (metaJson is null)
        {
            return null;
        }
        using var meta = JsonDocument.Parse(metaJson);
        return meta.RootElement.ValueKind == JsonValueKind.Object && meta.RootElement.TryGetProperty("source_device", out var s)
            && s.ValueKind == JsonValueKind.String ? s.GetString()![..Math.Min(64, s.GetString()!.Length)] : null;
    }

    internal const int NotifyTextLimit = MaxNotifyText;

    private sealed record AgentSeen(string State, long At);
}
