using System.Text.Json;
using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>
/// The mesh, on the plugin host's socket (<c>plugins.sock</c>). <see cref="Status"/>, <see cref="Devices"/>,
/// <see cref="Describe"/> and <see cref="Invoke"/> admit the agent's uid and the admins; the user methods admit admins
/// only (root, the admin group). See docs/mesh.md.
/// </summary>
public static class MeshMethods
{
    /// <summary><see cref="EmptyParams"/> → <see cref="MeshStatus"/>.</summary>
    public const string Status = "mesh.status";

    /// <summary><see cref="EmptyParams"/> → <see cref="MeshDeviceList"/>.</summary>
    public const string Devices = "mesh.devices";

    /// <summary><see cref="MeshDeviceId"/> → <see cref="MeshDeviceDescription"/>.</summary>
    public const string Describe = "mesh.describe";

    /// <summary><see cref="MeshInvokeRequest"/> → <see cref="MeshInvokeResult"/>. Timeouts are -32002, an absent device -32009.</summary>
    public const string Invoke = "mesh.invoke";

    /// <summary><see cref="EmptyParams"/> → <see cref="MeshUserList"/>: the users of the household broker.</summary>
    public const string Users = "mesh.users";

    /// <summary><see cref="MeshDeviceAddRequest"/> → <see cref="MeshIssued"/> (its seed, once).</summary>
    public const string AddDevice = "mesh.device.add";

    /// <summary><see cref="MeshAdminAddRequest"/> → <see cref="MeshIssued"/> (its seed, once).</summary>
    public const string AddAdmin = "mesh.admin.add";

    /// <summary><see cref="MeshUserRemoveRequest"/> → <see cref="MeshUserInfo"/>: revoked, its connections cut.</summary>
    public const string RemoveUser = "mesh.user.remove";
}

/// <summary>Where the box stands on the mesh.</summary>
public sealed record MeshStatus
{
    /// <summary><c>off</c>, <c>connecting</c>, <c>connected</c>, <c>reconnecting</c>, or <c>down: why</c>.</summary>
    [JsonPropertyName("state")] public required string State { get; init; }
    /// <summary><c>local</c> (the box's own broker), <c>remote</c> or <c>off</c>.</summary>
    [JsonPropertyName("broker")] public required string Broker { get; init; }
    [JsonPropertyName("url")] public string? Url { get; init; }
    [JsonPropertyName("tenant")] public required string Tenant { get; init; }
    [JsonPropertyName("box_id")] public required string BoxId { get; init; }
    /// <summary>The device of the box's admin functions (<c>{box_id}-admin</c>); null on a remote broker, where the box serves none.</summary>
    [JsonPropertyName("admin_device")] public string? AdminDevice { get; init; }
    /// <summary><c>registered</c>, <c>no registry (presence only)</c>, or why registering failed.</summary>
    [JsonPropertyName("registry")] public string? Registry { get; init; }
    [JsonPropertyName("devices_online")] public int DevicesOnline { get; init; }
    /// <summary>Calls the box's devices answered with a result or a function's error.</summary>
    [JsonPropertyName("calls")] public long Calls { get; init; }
    /// <summary>Calls refused before a function ran (bad params, unknown methods, malformed or oversize).</summary>
    [JsonPropertyName("refused")] public long Refused { get; init; }
    [JsonPropertyName("rate_limited")] public long RateLimited { get; init; }
    /// <summary>Publishes and subscribes the broker refused this box (permission violations).</summary>
    [JsonPropertyName("denied_by_broker")] public long DeniedByBroker { get; init; }
}

public sealed record MeshDeviceId([property: JsonPropertyName("device_id")] string DeviceId);

/// <summary>A device as the box knows it.</summary>
public sealed record MeshDeviceSummary
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("device_type")] public string? DeviceType { get; init; }
    [JsonPropertyName("online")] public required bool Online { get; init; }
    [JsonPropertyName("last_seen")] public DateTimeOffset? LastSeen { get; init; }
    /// <summary><c>registry</c> or <c>presence</c>.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }
    [JsonPropertyName("functions")] public required IReadOnlyList<string> Functions { get; init; }
}

/// <param name="Registry">True when a registry answered; false when the list comes from presence alone.</param>
public sealed record MeshDeviceList(
    [property: JsonPropertyName("devices")] IReadOnlyList<MeshDeviceSummary> Devices,
    [property: JsonPropertyName("registry")] bool Registry);

/// <summary>A device with what it says of itself: <c>{device_id, capabilities, identity, status}</c>, untrusted.</summary>
public sealed record MeshDeviceDescription
{
    [JsonPropertyName("device")] public required MeshDeviceSummary Device { get; init; }
    [JsonPropertyName("description")] public JsonElement? Description { get; init; }
}

/// <summary>Call <c>function</c> of <c>device_id</c> with <c>params</c> (an object), within <c>timeout_ms</c> (default 5,000).</summary>
public sealed record MeshInvokeRequest
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("function")] public required string Function { get; init; }
    [JsonPropertyName("params")] public JsonElement? Params { get; init; }
    [JsonPropertyName("timeout_ms")] public int? TimeoutMs { get; init; }
    /// <summary>Who the agent calls for (<c>whatsapp:…</c>, <c>console:…</c>); the plugin host records it and checks the policy for the agent again.</summary>
    [JsonPropertyName("on_behalf_of")] public string? OnBehalfOf { get; init; }
    /// <summary>The role whose policy the agent applied (<c>admin</c>, <c>user</c>, <c>device</c>), or null for an admin's own call.</summary>
    [JsonPropertyName("role")] public string? Role { get; init; }
}

/// <summary>What the device answered: a result, or its error (a device's own failure is an answer, not a failed call).</summary>
public sealed record MeshInvokeResult
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("function")] public required string Function { get; init; }
    /// <summary><c>result</c> or <c>error</c>.</summary>
    [JsonPropertyName("outcome")] public required string Outcome { get; init; }
    [JsonPropertyName("result")] public JsonElement? Result { get; init; }
    [JsonPropertyName("error")] public MeshDeviceError? Error { get; init; }
    [JsonPropertyName("elapsed_ms")] public double ElapsedMs { get; init; }
}

public sealed record MeshDeviceError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message);

/// <summary>A user of the household broker (no secret).</summary>
public sealed record MeshUserInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary><c>device</c> or <c>admin</c>.</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    [JsonPropertyName("public_key")] public required string PublicKey { get; init; }
    [JsonPropertyName("device_type")] public string? DeviceType { get; init; }
    [JsonPropertyName("may_call")] public required IReadOnlyList<string> MayCall { get; init; }
    [JsonPropertyName("legacy_inbox")] public required bool LegacyInbox { get; init; }
    [JsonPropertyName("added_at")] public required DateTimeOffset AddedAt { get; init; }
}

public sealed record MeshUserList([property: JsonPropertyName("users")] IReadOnlyList<MeshUserInfo> Users);

public sealed record MeshDeviceAddRequest
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("device_type")] public string? DeviceType { get; init; }
    [JsonPropertyName("may_call")] public IReadOnlyList<string> MayCall { get; init; } = [];
    [JsonPropertyName("legacy_inbox")] public bool LegacyInbox { get; init; }
}

public sealed record MeshAdminAddRequest
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("legacy_inbox")] public bool LegacyInbox { get; init; }
}

public sealed record MeshUserRemoveRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind);

/// <summary>A new user's credentials: what goes into its <c>.creds</c> and <c>*.creds.json</c> files, once.</summary>
public sealed record MeshIssued
{
    [JsonPropertyName("user")] public required MeshUserInfo User { get; init; }
    [JsonPropertyName("jwt")] public required string Jwt { get; init; }
    [JsonPropertyName("seed")] public required string Seed { get; init; }
    [JsonPropertyName("tenant")] public required string Tenant { get; init; }
    /// <summary>Where devices reach the broker (the LAN listener's when there is one).</summary>
    [JsonPropertyName("urls")] public required IReadOnlyList<string> Urls { get; init; }
    /// <summary>The box's CA (PEM), which signs the broker's TLS certificate.</summary>
    [JsonPropertyName("ca_pem")] public string? CaPem { get; init; }

    public override string ToString() => $"MeshIssued {{ {User.Kind} {User.Name} }}";
}

/// <summary>
/// A device's <c>notify</c> call, handed by the plugin host to the agent (<c>inbound.mesh</c>, the plugin host's uid only):
/// untrusted text for the household, in the conversation <c>mesh:{device}</c>.
/// </summary>
public sealed record MeshNotice
{
    /// <summary>The calling device as far as the broker tells (its reply inbox), or <c>unattributed</c>.</summary>
    [JsonPropertyName("device")] public required string Device { get; init; }
    /// <summary>What the caller wrote about itself (<c>_dc_meta.source_device</c>): recorded, never trusted.</summary>
    [JsonPropertyName("claimed_by")] public string? ClaimedBy { get; init; }
    [JsonPropertyName("text")] public required string Text { get; init; }
    /// <summary><c>low</c>, <c>normal</c> or <c>high</c>.</summary>
    [JsonPropertyName("priority")] public required string Priority { get; init; }
}

public static class InboundMeshMethods
{
    /// <summary><see cref="MeshNotice"/> → <see cref="Done"/> (accepted: queued for the agent).</summary>
    public const string Notify = "inbound.mesh";
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false)]
[JsonSerializable(typeof(MeshStatus))]
[JsonSerializable(typeof(MeshDeviceId))]
[JsonSerializable(typeof(MeshDeviceList))]
[JsonSerializable(typeof(MeshDeviceDescription))]
[JsonSerializable(typeof(MeshInvokeRequest))]
[JsonSerializable(typeof(MeshInvokeResult))]
[JsonSerializable(typeof(MeshUserList))]
[JsonSerializable(typeof(MeshDeviceAddRequest))]
[JsonSerializable(typeof(MeshAdminAddRequest))]
[JsonSerializable(typeof(MeshUserRemoveRequest))]
[JsonSerializable(typeof(MeshIssued))]
[JsonSerializable(typeof(MeshNotice))]
[JsonSerializable(typeof(Done))]
public sealed partial class MeshJsonContext : JsonSerializerContext;
