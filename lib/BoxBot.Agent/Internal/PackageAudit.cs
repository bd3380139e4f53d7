using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BoxBot.Contracts;

namespace BoxBot.Agent.Internal;

/// <summary>
/// <c>packages-audit.log</c> in the agent's state folder: one JSON object per line, appended and fsynced before the
/// step it records goes on (an install starts only once its "approved" line is on disk). Mode 0600. Lines hold
/// names, versions, hashes and uids, never secrets.
/// </summary>
internal sealed class PackageAudit(string path, TimeProvider time)
{
    private readonly Lock _gate = new();

    public string Path => path;

    /// <summary>Appends one line: <paramref name="event"/> is requested, approved, installed, failed, denied or expired.</summary>
    /// <exception cref="IOException">The line could not be written (the caller must not go on).</exception>
    public void Append(string @event, Approval approval)
    {
        var entry = new AuditEntry
        {
            Time = time.GetUtcNow(),
            Event = @event,
            Approval = approval.Id,
            RequestedBy = approval.RequestedBy,
            DecidedBy = approval.DecidedBy,
            Reason = approval.Reason,
            Specs = approval.Specs,
            Packages = [.. approval.Packages.Select(p => new AuditPackage(p.Name, p.Version, p.Sha256))],
            Error = approval.Error,
        };
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, AuditJsonContext.Default.AuditEntry) + "\n");
        lock (_gate)
        {
            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.Read,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            file.Write(line);
            file.Flush(flushToDisk: true);
        }
    }
}

internal sealed record AuditEntry
{
    [JsonPropertyName("time")] public required DateTimeOffset Time { get; init; }
    [JsonPropertyName("event")] public required string Event { get; init; }
    [JsonPropertyName("approval")] public required string Approval { get; init; }
    [JsonPropertyName("requested_by")] public required string RequestedBy { get; init; }
    [JsonPropertyName("decided_by")] public string? DecidedBy { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("specs")] public required IReadOnlyList<string> Specs { get; init; }
    [JsonPropertyName("packages")] public required IReadOnlyList<AuditPackage> Packages { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

internal sealed record AuditPackage(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("sha256")] string Sha256);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
