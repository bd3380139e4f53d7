using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>
/// Method names of the sandbox path. <c>sandbox.run</c> exists twice: on the agent's socket (admins;
/// secrets by name, resolved from the agent's store) and on the sandbox's socket (the agent's uid only;
/// secret values, which never travel anywhere else).
/// </summary>
public static class SandboxMethods
{
    public const string Run = "sandbox.run";
}

/// <summary>Methods of the agent's secret store. Values go in, never out.</summary>
public static class SecretMethods
{
    public const string List = "secrets.list";
    public const string Set = "secrets.set";
    public const string Delete = "secrets.delete";
}

/// <summary>
/// Agent methods the sandbox daemon calls on behalf of a running job's <c>bb.secrets</c> calls
/// (callable by root and the sandbox's uid only; the job itself never reaches the agent's socket).
/// </summary>
public static class SdkSecretMethods
{
    public const string Store = "sdk.secrets.store";
    public const string List = "sdk.secrets.list";
    public const string Has = "sdk.secrets.has";
    public const string Delete = "sdk.secrets.delete";
}

/// <summary>The agent method the sandbox daemon calls for a job's <c>bb.skill.save</c> (root and the sandbox's uid only).</summary>
public static class SdkSkillMethods
{
    /// <summary><see cref="SkillSaveRequest"/> → <see cref="Done"/>: save an agent-authored skill (never a built-in one).</summary>
    public const string Save = "sdk.skills.save";
}

/// <summary>A skill a job wrote: its name, one-line description and instructions (SKILL.md's body).</summary>
public sealed record SkillSaveRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("body")] string Body);

/// <summary>CLI → agent: run a script, naming the secrets it may use.</summary>
public sealed record SandboxRunRequest
{
    /// <summary>The largest script a job may have, in bytes of UTF-8 (the agent, the sandbox and the CLI all count it so).</summary>
    public const int MaxScriptBytes = 256 * 1024;

    [JsonPropertyName("script")] public required string Script { get; init; }
    [JsonPropertyName("secrets")] public IReadOnlyList<string> Secrets { get; init; } = [];
    [JsonPropertyName("timeout_s")] public int? TimeoutSeconds { get; init; }
    [JsonPropertyName("memory_mib")] public int? MemoryMiB { get; init; }
    /// <summary>"none" (default) or "internet".</summary>
    [JsonPropertyName("network")] public string? Network { get; init; }
}

/// <summary>Agent → sandbox: one job, with the values of exactly the secrets it named.</summary>
public sealed record SandboxJob
{
    [JsonPropertyName("script")] public required string Script { get; init; }
    [JsonPropertyName("secrets")] public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();
    [JsonPropertyName("timeout_s")] public int? TimeoutSeconds { get; init; }
    [JsonPropertyName("memory_mib")] public int? MemoryMiB { get; init; }
    [JsonPropertyName("network")] public string? Network { get; init; }
}

/// <summary>What became of a job. Every key is always present (null when it does not apply).</summary>
public sealed record SandboxRunResult
{
    [JsonPropertyName("job_id")] public required string JobId { get; init; }
    /// <summary>"ok" (exit 0), "error" (non-zero exit or setup failure), "killed" (a limit or the filter ended it).</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("exit_code")] public int? ExitCode { get; init; }
    /// <summary>"timeout", "memory", "output", "disk", "tasks", "seccomp" or "signal" when killed.</summary>
    [JsonPropertyName("killed_by")] public string? KilledBy { get; init; }
    /// <summary>The forbidden syscall, when the kernel's audit trail names it.</summary>
    [JsonPropertyName("syscall")] public string? Syscall { get; init; }
    [JsonPropertyName("stdout")] public required string Stdout { get; init; }
    [JsonPropertyName("stderr")] public required string Stderr { get; init; }
    [JsonPropertyName("stdout_truncated")] public bool StdoutTruncated { get; init; }
    [JsonPropertyName("stderr_truncated")] public bool StderrTruncated { get; init; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; init; }
    /// <summary>SDK calls the job made.</summary>
    [JsonPropertyName("sdk_calls")] public int SdkCalls { get; init; }
    /// <summary>Files the job returned with <c>bb.output.attach</c>, with their bytes as captured at attach time.</summary>
    [JsonPropertyName("attachments")] public IReadOnlyList<SandboxAttachment> Attachments { get; init; } = [];
    /// <summary>Why the job could not run at all (setup failure), for the caller.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
    /// <summary>
    /// What the box's rules had to do with how the job ended, for a person: the limit, its value for this job, and what
    /// changes it. Null when nothing of the box's stopped the job.
    /// </summary>
    [JsonPropertyName("explanation")] public string? Explanation { get; init; }
}

/// <summary>A file a job returned; <c>content</c> is base64 on the wire.</summary>
public sealed record SandboxAttachment(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("content")] byte[] Content);

public sealed record SecretPresence([property: JsonPropertyName("has")] bool Has);

public sealed record SecretName([property: JsonPropertyName("name")] string Name);

public sealed record SecretValue(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value);

public sealed record SecretList([property: JsonPropertyName("names")] IReadOnlyList<string> Names);

public sealed record Done([property: JsonPropertyName("done")] bool Value);

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false)]
[JsonSerializable(typeof(SandboxRunRequest))]
[JsonSerializable(typeof(SandboxJob))]
[JsonSerializable(typeof(SandboxRunResult))]
[JsonSerializable(typeof(SecretName))]
[JsonSerializable(typeof(SecretValue))]
[JsonSerializable(typeof(SecretList))]
[JsonSerializable(typeof(Done))]
[JsonSerializable(typeof(SecretPresence))]
[JsonSerializable(typeof(SkillSaveRequest))]
public sealed partial class SandboxJsonContext : JsonSerializerContext;
