using System.Text.Json.Serialization;

namespace BoxBot.Cli;

/// <summary>One daemon in <c>boxbot status --json</c>. Every key is always present (null when unknown) so scripts can rely on them.</summary>
public sealed record DaemonStatusReport
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("up")] public required bool Up { get; init; }
    /// <summary>"up", "down", or "off": not running, and not meant to yet (an installed webhook until WhatsApp is set up).</summary>
    [JsonPropertyName("state")] public string State => Up ? "up" : Off ? "off" : "down";
    /// <summary>Down on purpose: <see cref="State"/> "off", which does not make <c>all_up</c> false.</summary>
    [JsonIgnore] public bool Off { get; init; }
    [JsonPropertyName("pid")] public int? Pid { get; init; }
    [JsonPropertyName("uid")] public uint? Uid { get; init; }
    [JsonPropertyName("version")] public string? Version { get; init; }
    [JsonPropertyName("uptime_s")] public double? UptimeSeconds { get; init; }
    [JsonPropertyName("config_path")] public string? ConfigPath { get; init; }
    [JsonPropertyName("socket")] public required string Socket { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("details")] public IReadOnlyDictionary<string, string>? Details { get; init; }
}

/// <summary>The whole <c>boxbot status --json</c> document.</summary>
public sealed record StatusReport
{
    [JsonPropertyName("daemons")] public required IReadOnlyList<DaemonStatusReport> Daemons { get; init; }
    /// <summary>Every daemon is up, or off on purpose (see <see cref="DaemonStatusReport.State"/>): the exit code is 0.</summary>
    [JsonPropertyName("all_up")] public required bool AllUp { get; init; }
    [JsonPropertyName("layout")] public required string Layout { get; init; }
    [JsonPropertyName("runtime_dir")] public required string RuntimeDir { get; init; }
    /// <summary>What to do when the CLI looked in the wrong place (a development box runs, BOXBOT_HOME is not set); null otherwise.</summary>
    [JsonPropertyName("hint")] public string? Hint { get; init; }
}

/// <summary>One problem of <c>boxbot config check --json</c>; line, column and key are null when the problem is the file as a whole.</summary>
public sealed record ConfigErrorReport(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("line")] int? Line,
    [property: JsonPropertyName("column")] int? Column,
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("message")] string Message);

/// <summary><c>boxbot config check --json</c>: <c>exists</c> false (and ok) when the default file is absent and the built-in defaults apply.</summary>
public sealed record ConfigCheckReport(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("exists")] bool Exists,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("errors")] IReadOnlyList<ConfigErrorReport> Errors);

public sealed record VersionReport(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("rid")] string RuntimeIdentifier);

/// <summary>One finding of <c>boxbot doctor --json</c>; <c>fix</c> is null when the finding is ok or skipped.</summary>
public sealed record DoctorFindingReport(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("fix")] string? Fix);

public sealed record DoctorSummary(
    [property: JsonPropertyName("ok")] int Ok,
    [property: JsonPropertyName("warnings")] int Warnings,
    [property: JsonPropertyName("failures")] int Failures,
    [property: JsonPropertyName("skipped")] int Skipped);

/// <summary>The whole <c>boxbot doctor --json</c> document.</summary>
public sealed record DoctorReport
{
    /// <summary>"installed" or "development".</summary>
    [JsonPropertyName("layout")] public required string Layout { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("findings")] public required IReadOnlyList<DoctorFindingReport> Findings { get; init; }
    [JsonPropertyName("summary")] public required DoctorSummary Summary { get; init; }
    /// <summary>No finding failed: the exit code is 0.</summary>
    [JsonPropertyName("ok")] public bool Ok => Summary.Failures == 0;
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(ConfigCheckReport))]
[JsonSerializable(typeof(VersionReport))]
[JsonSerializable(typeof(DoctorReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
