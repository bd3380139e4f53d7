using System.Text.Json.Serialization;
using Tomlyn.Serialization;

namespace BoxBot.Config.Internal;

// The shape of boxbot.toml, separate from the runtime options: plain TOML types, snake_case keys, and
// every integer as long so that an out-of-range number reaches ConfigBinder (and gets a helpful range
// message) instead of failing inside the deserializer. Initial values come from the options' Default,
// so the defaults live in one place. The set of known sections and keys is derived from this model
// (ConfigSchema), so adding a property here is all it takes to add a key.

internal sealed class ConfigFile
{
    [JsonPropertyName("box")] public BoxSection Box { get; set; } = new();
    [JsonPropertyName("ipc")] public IpcSection Ipc { get; set; } = new();
    [JsonPropertyName("agent")] public AgentSection Agent { get; set; } = new();
    [JsonPropertyName("sandbox")] public SandboxSection Sandbox { get; set; } = new();
    [JsonPropertyName("webhook")] public WebhookSection Webhook { get; set; } = new();
    [JsonPropertyName("whatsapp")] public WhatsAppSection WhatsApp { get; set; } = new();
    [JsonPropertyName("perception")] public SocketSection Perception { get; set; } = new();
    [JsonPropertyName("plugin-host")] public PluginHostSection PluginHost { get; set; } = new();
    [JsonPropertyName("mesh")] public MeshSection Mesh { get; set; } = new();
    [JsonPropertyName("plugins")] public PluginsSection Plugins { get; set; } = new();
}

internal sealed class BoxSection
{
    [JsonPropertyName("log_level")] public string LogLevel { get; set; } = ConfigBinder.Format(BoxOptions.Default.LogLevel);
    [JsonPropertyName("admin_group")] public string AdminGroup { get; set; } = BoxOptions.Default.AdminGroup;
}

internal sealed class IpcSection
{
    [JsonPropertyName("request_timeout_ms")] public long RequestTimeoutMs { get; set; } = (long)IpcOptions.Default.RequestTimeout.TotalMilliseconds;
    [JsonPropertyName("max_connections")] public long MaxConnections { get; set; } = IpcOptions.Default.MaxConnections;
}

internal sealed class AgentSection
{
    [JsonPropertyName("socket_group")] public string SocketGroup { get; set; } = AgentOptions.Default.SocketGroup;
    [JsonPropertyName("package_index_url")] public string PackageIndexUrl { get; set; } = AgentOptions.Default.PackageIndexUrl?.OriginalString ?? "";
    [JsonPropertyName("package_find_links")] public string PackageFindLinks { get; set; } = AgentOptions.Default.PackageFindLinks;
    [JsonPropertyName("llm")] public LlmSection Llm { get; set; } = new();
}

// A nested table, [agent.llm]: ConfigSchema names its section "agent.llm". Prices are TOML floats (doubles here);
// the binder turns them into decimals so that money is not added up in binary fractions.
internal sealed class LlmSection
{
    private static readonly LlmOptions D = LlmOptions.Default;
    [JsonPropertyName("provider")] public string Provider { get; set; } = ConfigBinder.Format(D.Provider);
    [JsonPropertyName("model")] public string Model { get; set; } = D.Model;
    [JsonPropertyName("base_url")] public string BaseUrl { get; set; } = D.BaseUrl?.OriginalString ?? "";
    [JsonPropertyName("max_output_tokens")] public long MaxOutputTokens { get; set; } = D.MaxOutputTokens;
    [JsonPropertyName("timeout_s")] public long TimeoutS { get; set; } = (long)D.Timeout.TotalSeconds;
    [JsonPropertyName("input_price_per_mtok")] public double InputPricePerMTok { get; set; } = (double)D.InputPricePerMTok;
    [JsonPropertyName("output_price_per_mtok")] public double OutputPricePerMTok { get; set; } = (double)D.OutputPricePerMTok;
    [JsonPropertyName("daily_budget_usd")] public double DailyBudgetUsd { get; set; } = (double)D.DailyBudgetUsd;
    [JsonPropertyName("max_tool_turns")] public long MaxToolTurns { get; set; } = D.MaxToolTurns;
}

internal sealed class SocketSection
{
    [JsonPropertyName("socket_group")] public string SocketGroup { get; set; } = "";
}

internal sealed class SandboxSection
{
    private static readonly SandboxOptions D = SandboxOptions.Default;
    [JsonPropertyName("socket_group")] public string SocketGroup { get; set; } = D.SocketGroup;
    [JsonPropertyName("job_user")] public string JobUser { get; set; } = D.JobUser;
    [JsonPropertyName("python")] public string Python { get; set; } = D.Python;
    [JsonPropertyName("max_concurrent_jobs")] public long MaxConcurrentJobs { get; set; } = D.MaxConcurrentJobs;
    [JsonPropertyName("queue_length")] public long QueueLength { get; set; } = D.QueueLength;
    [JsonPropertyName("warm_jobs")] public long WarmJobs { get; set; } = D.WarmJobs;
    [JsonPropertyName("timeout_s")] public long TimeoutS { get; set; } = (long)D.Timeout.TotalSeconds;
    [JsonPropertyName("cpu_s")] public long CpuS { get; set; } = (long)D.Cpu.TotalSeconds;
    [JsonPropertyName("memory_mib")] public long MemoryMiB { get; set; } = D.MemoryMiB;
    [JsonPropertyName("max_tasks")] public long MaxTasks { get; set; } = D.MaxTasks;
    [JsonPropertyName("max_open_files")] public long MaxOpenFiles { get; set; } = D.MaxOpenFiles;
    [JsonPropertyName("workspace_mib")] public long WorkspaceMiB { get; set; } = D.WorkspaceMiB;
    [JsonPropertyName("output_kib")] public long OutputKiB { get; set; } = D.OutputKiB;
}

internal sealed class WebhookSection
{
    private static readonly WebhookOptions D = WebhookOptions.Default;
    [JsonPropertyName("listen_address")] public string ListenAddress { get; set; } = D.ListenAddress;
    [JsonPropertyName("port")] public long Port { get; set; } = D.Port;
    [JsonPropertyName("socket_group")] public string SocketGroup { get; set; } = D.SocketGroup;
    [JsonPropertyName("allow_public_bind")] public bool AllowPublicBind { get; set; } = D.AllowPublicBind;
    [JsonPropertyName("max_body_bytes")] public long MaxBodyBytes { get; set; } = D.MaxBodyBytes;
    [JsonPropertyName("max_connections")] public long MaxConnections { get; set; } = D.MaxConnections;
    [JsonPropertyName("max_header_bytes")] public long MaxHeaderBytes { get; set; } = D.MaxHeaderBytes;
    [JsonPropertyName("header_timeout_s")] public long HeaderTimeoutS { get; set; } = (long)D.HeaderTimeout.TotalSeconds;
    [JsonPropertyName("body_timeout_s")] public long BodyTimeoutS { get; set; } = (long)D.BodyTimeout.TotalSeconds;
    [JsonPropertyName("min_body_bytes_per_s")] public long MinBodyBytesPerSecond { get; set; } = D.MinBodyBytesPerSecond;
    [JsonPropertyName("sender_messages_per_minute")] public long SenderMessagesPerMinute { get; set; } = D.SenderMessagesPerMinute;
    [JsonPropertyName("global_messages_per_minute")] public long GlobalMessagesPerMinute { get; set; } = D.GlobalMessagesPerMinute;
}

internal sealed class WhatsAppSection
{
    private static readonly WhatsAppOptions D = WhatsAppOptions.Default;
    [JsonPropertyName("graph_url")] public string GraphUrl { get; set; } = D.GraphUrl.OriginalString;
    [JsonPropertyName("api_version")] public string ApiVersion { get; set; } = D.ApiVersion;
    [JsonPropertyName("phone_number_id")] public string PhoneNumberId { get; set; } = D.PhoneNumberId;
}

internal sealed class PluginHostSection
{
    [JsonPropertyName("socket_group")] public string SocketGroup { get; set; } = PluginHostOptions.Default.SocketGroup;
}

internal sealed class PluginsSection
{
    [JsonPropertyName("max_plugins")] public long MaxPlugins { get; set; } = PluginsOptions.Default.MaxPlugins;
    [JsonPropertyName("allowed_hosts")] public List<string> AllowedHosts { get; set; } = [];
    [JsonPropertyName("require_digest")] public bool RequireDigest { get; set; } = PluginsOptions.Default.RequireDigest;
}

internal sealed class MeshSection
{
    private static readonly MeshSettings D = MeshSettings.Default;
    [JsonPropertyName("broker")] public string Broker { get; set; } = ConfigBinder.Format(D.Broker);
    [JsonPropertyName("url")] public string Url { get; set; } = D.Url?.OriginalString ?? "";
    [JsonPropertyName("user")] public string User { get; set; } = D.User;
    [JsonPropertyName("tenant")] public string Tenant { get; set; } = D.Tenant;
    [JsonPropertyName("box_id")] public string BoxId { get; set; } = D.BoxId;
    [JsonPropertyName("port")] public long Port { get; set; } = D.Port;
    [JsonPropertyName("listen_lan")] public bool ListenLan { get; set; } = D.ListenLan;
    [JsonPropertyName("allow_insecure")] public bool AllowInsecure { get; set; } = D.AllowInsecure;
    [JsonPropertyName("ca_file")] public string CaFile { get; set; } = D.CaFile;
    [JsonPropertyName("tls_cert_file")] public string TlsCertFile { get; set; } = D.TlsCertFile;
    [JsonPropertyName("call_timeout_ms")] public long CallTimeoutMs { get; set; } = (long)D.CallTimeout.TotalMilliseconds;
    [JsonPropertyName("notify_per_minute")] public long NotifyPerMinute { get; set; } = D.NotifyPerMinute;
    [JsonPropertyName("calls_per_caller_per_minute")] public long CallsPerCallerPerMinute { get; set; } = D.CallsPerCallerPerMinute;
    [JsonPropertyName("calls_per_minute")] public long CallsPerMinute { get; set; } = D.CallsPerMinute;
    [JsonPropertyName("policy")] public MeshPolicySections Policy { get; set; } = new();
}

// [mesh.policy.admin], [mesh.policy.user], [mesh.policy.device]: three sections of the same shape.
internal sealed class MeshPolicySections
{
    [JsonPropertyName("admin")] public MeshPolicySection Admin { get; set; } = new();
    [JsonPropertyName("user")] public MeshPolicySection User { get; set; } = new();
    [JsonPropertyName("device")] public MeshPolicySection Device { get; set; } = new();
}

internal sealed class MeshPolicySection
{
    [JsonPropertyName("allow")] public List<string> Allow { get; set; } = [];
    [JsonPropertyName("ask")] public List<string> Ask { get; set; } = [];
    [JsonPropertyName("deny")] public List<string> Deny { get; set; } = [];
}

[TomlSerializable(typeof(ConfigFile))]
internal sealed partial class ConfigFileContext : TomlSerializerContext
{
}
