using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>Method names shared by every daemon.</summary>
public static class SystemMethods
{
    /// <summary>Returns <see cref="SystemStatus"/>. Callable by root, the daemon's own uid and the admin group.</summary>
    public const string Status = "system.status";
}

/// <summary>The reply to <c>system.status</c>.</summary>
public sealed record SystemStatus
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("pid")] public required int Pid { get; init; }
    [JsonPropertyName("uid")] public required uint Uid { get; init; }
    [JsonPropertyName("started_at")] public required DateTimeOffset StartedAt { get; init; }
    [JsonPropertyName("uptime_s")] public required double UptimeSeconds { get; init; }
    [JsonPropertyName("config_path")] public required string ConfigPath { get; init; }
    /// <summary>Daemon-specific facts (listening address, counters); string values only so every consumer can print them.</summary>
    [JsonPropertyName("details")] public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
}

/// <summary>Empty params object for methods that take none.</summary>
public sealed record EmptyParams;

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SystemStatus))]
[JsonSerializable(typeof(EmptyParams))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
