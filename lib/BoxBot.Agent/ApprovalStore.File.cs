using System.Text.Json;
using System.Text.Json.Serialization;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Agent;

/// <summary>The state file: what is kept, and what a file must look like to be trusted at start.</summary>
public sealed partial class ApprovalStore
{
    /// <summary>Must hold the lock. Keeps every undecided approval and the newest decided ones up to <see cref="MaxKept"/>.</summary>
    private void Save(List<Approval> approvals)
    {
        var open = approvals.Where(a => a.State is ApprovalStates.Pending or ApprovalStates.Installing);
        var decided = approvals.Where(a => a.State is not (ApprovalStates.Pending or ApprovalStates.Installing))
            .OrderByDescending(a => a.DecidedAt ?? a.CreatedAt).Take(Math.Max(0, MaxKept - open.Count()));
        var keep = open.Concat(decided).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var kept = approvals.Where(a => keep.Contains(a.Id)).ToList(); // in the order they were made
        AtomicFile.WriteAllText(_path, JsonSerializer.Serialize(new ApprovalFile { Approvals = kept }, ApprovalFileContext.Default.ApprovalFile), Private);
        _approvals = kept;
    }

    private static void RequireValid(ResolvedPackage p)
    {
        if (!PackageSpecs.IsValidName(p.Name) || !PackageSpecs.IsValidVersion(p.Version) || !PackageSpecs.IsValidSha256(p.Sha256)
            || !PackageSpecs.IsValidWheelFile(p.File) || (p.InstalledVersion is not null && !PackageSpecs.IsValidVersion(p.InstalledVersion)))
        {
            throw new ArgumentException($"not a valid resolved package: '{p.Name}' '{p.Version}'");
        }
    }

    private static List<Approval> Load(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new IOException($"{path} can be changed by others than its owner (a pending approval is what an admin approves); fix it with: chmod 600 {path}");
        }
        try
        {
            var file = JsonSerializer.Deserialize(File.ReadAllText(path), ApprovalFileContext.Default.ApprovalFile);
            var approvals = file?.Approvals ?? [];
            foreach (var a in approvals)
            {
                if (!IsValidId(a.Id) || a.Kind != ApprovalKinds.Packages || a.Packages is null || a.Specs is null
                    || a.State is not (ApprovalStates.Pending or ApprovalStates.Installing or ApprovalStates.Installed
                        or ApprovalStates.Failed or ApprovalStates.Denied or ApprovalStates.Expired))
                {
                    throw new IOException($"{path} holds an invalid approval ('{a.Id}'); restore the file from a backup or delete it (the audit log keeps the history)");
                }
                foreach (var p in a.Packages)
                {
                    RequireValid(p);
                }
            }
            return [.. approvals];
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new IOException($"{path} is not a valid approvals file ({e.Message}); restore it from a backup or delete it (the audit log keeps the history)", e);
        }
    }
}

internal sealed class ApprovalFile
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("approvals")] public List<Approval> Approvals { get; set; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ApprovalFile))]
internal sealed partial class ApprovalFileContext : JsonSerializerContext;
