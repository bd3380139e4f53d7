using System.Text.Json;
using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>
/// The sandbox runner's plugin methods on <c>sandbox.sock</c>, for the plugin host only (and root): each loaded plugin is
/// one long-lived confined process there. The runner finds a plugin's code itself, under the plugin host's installed
/// folder by id (or a staging folder by name), never at a path a caller names.
/// </summary>
public static class SandboxPluginMethods
{
    public const string Load = "sandbox.plugin_load";
    public const string Unload = "sandbox.plugin_unload";
    public const string Call = "sandbox.plugin_call";
    public const string List = "sandbox.plugin_list";
    public const string Describe = "sandbox.plugin_describe";
    public const string Events = "sandbox.plugin_events";
}

/// <summary>The plugin host's plugin methods on <c>plugins.sock</c> (admins; the CLI's <c>boxbot plugins</c>).</summary>
public static class PluginMethods
{
    public const string List = "plugins.list";
    public const string Info = "plugins.info";
    public const string Upload = "plugins.upload";
    public const string Install = "plugins.install";
    public const string Load = "plugins.load";
    public const string Unload = "plugins.unload";
    public const string Reload = "plugins.reload";
    public const string Remove = "plugins.remove";

    /// <summary>The agent, once an admin approved a plugin install: installs the staged bundle (<see cref="PluginApproved"/>).</summary>
    public const string InstallApproved = "plugins.install_approved";
}

public sealed record PluginApproved
{
    [JsonPropertyName("approval_id")] public required string ApprovalId { get; init; }
    [JsonPropertyName("staged")] public required string Staged { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("approved_by")] public required string ApprovedBy { get; init; }
    [JsonPropertyName("load")] public bool Load { get; init; } = true;
}

/// <summary>Run a plugin: installed (by id), or, for describe, a staged one (<c>staging</c> names its folder).</summary>
public sealed record SandboxPluginSpec
{
    [JsonPropertyName("plugin_id")] public required string PluginId { get; init; }
    [JsonPropertyName("entry_point")] public required string EntryPoint { get; init; }
    [JsonPropertyName("class_name")] public required string ClassName { get; init; }
    [JsonPropertyName("memory_mib")] public int MemoryMib { get; init; } = 128;
    [JsonPropertyName("timeout_s")] public int TimeoutS { get; init; } = 30;

    /// <summary>A folder directly in the plugin host's staging folder (^[a-z0-9-]{1,80}$): describe only.</summary>
    [JsonPropertyName("staging")] public string? Staging { get; init; }
}

public sealed record SandboxPluginId
{
    [JsonPropertyName("plugin_id")] public required string PluginId { get; init; }

    /// <summary>Unload: also delete the plugin's data folder (it is being removed).</summary>
    [JsonPropertyName("purge_data")] public bool PurgeData { get; init; }
}

/// <summary>What a plugin offers: its functions (name, description, parameters) and events, as it described them.</summary>
public sealed record SandboxPluginOffer
{
    [JsonPropertyName("functions")] public required JsonElement Functions { get; init; }
    [JsonPropertyName("events")] public required JsonElement Events { get; init; }
}

public sealed record SandboxPluginState
{
    [JsonPropertyName("plugin_id")] public required string PluginId { get; init; }

    /// <summary>"starting", "running", "restarting", "failed" or "stopped".</summary>
    [JsonPropertyName("state")] public required string State { get; init; }
    [JsonPropertyName("offer")] public SandboxPluginOffer? Offer { get; init; }
    [JsonPropertyName("restarts")] public int Restarts { get; init; }
    [JsonPropertyName("last_error")] public string? LastError { get; init; }
    [JsonPropertyName("last_output")] public string? LastOutput { get; init; }
    [JsonPropertyName("calls")] public long Calls { get; init; }
    [JsonPropertyName("failures")] public long Failures { get; init; }
    [JsonPropertyName("timed_out")] public long TimedOut { get; init; }
    [JsonPropertyName("since")] public DateTimeOffset Since { get; init; }
}

public sealed record SandboxPluginStates([property: JsonPropertyName("plugins")] IReadOnlyList<SandboxPluginState> Plugins);

public sealed record SandboxPluginCall
{
    [JsonPropertyName("plugin_id")] public required string PluginId { get; init; }
    [JsonPropertyName("function")] public required string Function { get; init; }
    [JsonPropertyName("params")] public JsonElement? Params { get; init; }
    [JsonPropertyName("source_device")] public string? SourceDevice { get; init; }
}

/// <summary>A call's outcome: its result, or the error the caller is told (the plugin's own, a timeout, a crash).</summary>
public sealed record SandboxPluginCallResult
{
    [JsonPropertyName("result")] public JsonElement? Result { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

public sealed record SandboxPluginEventsRequest([property: JsonPropertyName("wait_ms")] int WaitMs);

public sealed record SandboxPluginEvent(
    [property: JsonPropertyName("plugin_id")] string PluginId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("payload")] JsonElement Payload);

public sealed record SandboxPluginEvents([property: JsonPropertyName("events")] IReadOnlyList<SandboxPluginEvent> Events);

/// <summary>One piece of a bundle on its way to the plugin host (IPC frames are at most 1 MiB; bundles up to 10 MiB).</summary>
public sealed record PluginUploadChunk
{
    /// <summary>Null for the first piece: the host answers with the upload's id.</summary>
    [JsonPropertyName("upload_id")] public string? UploadId { get; init; }
    [JsonPropertyName("offset")] public long Offset { get; init; }
    [JsonPropertyName("data")] public required byte[] Data { get; init; }
}

public sealed record PluginUploadState(
    [property: JsonPropertyName("upload_id")] string UploadId,
    [property: JsonPropertyName("received")] long Received);

public sealed record PluginInstallRequest
{
    /// <summary>A bundle uploaded with <c>plugins.upload</c>; or <see cref="Url"/>.</summary>
    [JsonPropertyName("upload_id")] public string? UploadId { get; init; }
    [JsonPropertyName("url")] public string? Url { get; init; }

    /// <summary>"sha256:HEX": required for URL installs unless [plugins] require_digest = false; checked whenever given.</summary>
    [JsonPropertyName("digest")] public string? Digest { get; init; }

    /// <summary>Replace an installed plugin of the same id (else refused).</summary>
    [JsonPropertyName("replace")] public bool Replace { get; init; }

    /// <summary>Load it once installed (the default).</summary>
    [JsonPropertyName("load")] public bool Load { get; init; } = true;
}

public sealed record PluginIdRequest([property: JsonPropertyName("plugin_id")] string PluginId);

public sealed record PluginFunctionInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description);

public sealed record PluginInfo
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("description")] public required string Description { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("source")] public required string Source { get; init; }
    [JsonPropertyName("entry_point")] public required string EntryPoint { get; init; }
    [JsonPropertyName("class_name")] public required string ClassName { get; init; }
    [JsonPropertyName("installed_by")] public required string InstalledBy { get; init; }
    [JsonPropertyName("installed_at")] public required DateTimeOffset InstalledAt { get; init; }
    [JsonPropertyName("network")] public required IReadOnlyList<string> Network { get; init; }
    [JsonPropertyName("secrets")] public required IReadOnlyList<string> Secrets { get; init; }
    [JsonPropertyName("devices")] public required IReadOnlyList<string> Devices { get; init; }
    [JsonPropertyName("memory_mib")] public required int MemoryMib { get; init; }
    [JsonPropertyName("timeout_s")] public required int TimeoutS { get; init; }
    [JsonPropertyName("python_dependencies")] public required IReadOnlyList<string> PythonDependencies { get; init; }

    /// <summary>"running", "starting", "restarting", "failed" or "not loaded".</summary>
    [JsonPropertyName("state")] public required string State { get; init; }
    [JsonPropertyName("functions")] public required IReadOnlyList<PluginFunctionInfo> Functions { get; init; }
    [JsonPropertyName("restarts")] public int Restarts { get; init; }
    [JsonPropertyName("last_error")] public string? LastError { get; init; }
    [JsonPropertyName("last_output")] public string? LastOutput { get; init; }
    [JsonPropertyName("calls")] public long Calls { get; init; }
}

public sealed record PluginList([property: JsonPropertyName("plugins")] IReadOnlyList<PluginInfo> Plugins);

public sealed record PluginInstallResult
{
    [JsonPropertyName("plugin")] public required PluginInfo Plugin { get; init; }
    [JsonPropertyName("replaced")] public bool Replaced { get; init; }
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false)]
[JsonSerializable(typeof(SandboxPluginSpec))]
[JsonSerializable(typeof(SandboxPluginId))]
[JsonSerializable(typeof(SandboxPluginOffer))]
[JsonSerializable(typeof(SandboxPluginState))]
[JsonSerializable(typeof(SandboxPluginStates))]
[JsonSerializable(typeof(SandboxPluginCall))]
[JsonSerializable(typeof(SandboxPluginCallResult))]
[JsonSerializable(typeof(SandboxPluginEventsRequest))]
[JsonSerializable(typeof(SandboxPluginEvents))]
[JsonSerializable(typeof(PluginUploadChunk))]
[JsonSerializable(typeof(PluginUploadState))]
[JsonSerializable(typeof(PluginInstallRequest))]
[JsonSerializable(typeof(PluginIdRequest))]
[JsonSerializable(typeof(PluginInfo))]
[JsonSerializable(typeof(PluginList))]
[JsonSerializable(typeof(PluginInstallResult))]
[JsonSerializable(typeof(PluginApproved))]
[JsonSerializable(typeof(Done))]
[JsonSerializable(typeof(EmptyParams))]
public sealed partial class PluginsJsonContext : JsonSerializerContext;

/// <summary>The ranges a plugin's manifest may declare (and the sandbox runner enforces).</summary>
public static class PluginManifestLimits
{
    public const int MinMemoryMib = 16;
    public const int MaxMemoryMib = 1024;
    public const int DefaultMemoryMib = 128;
    public const int MaxTimeoutSeconds = 300;
    public const int DefaultTimeoutSeconds = 30;
}
