using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>
/// Approved Python packages for sandbox jobs, on the agent's socket (admins: root, the agent's uid, the admin
/// group). A request is resolved to the exact wheels (with their sha256) that would be installed and waits as a
/// pending approval; only <see cref="ApprovalMethods.Approve"/> installs, and exactly that set. See docs/packages.md.
/// </summary>
public static class PackageMethods
{
    /// <summary><see cref="PackageRequest"/> → <see cref="Approval"/> (pending).</summary>
    public const string Request = "packages.request";

    /// <summary><see cref="EmptyParams"/> → <see cref="InstalledPackageList"/>: what the venv holds now.</summary>
    public const string List = "packages.list";
}

/// <summary>
/// Human decisions on pending approvals. The CLI calls them today; the touchscreen and an admin's WhatsApp
/// reply will call the same agent code.
/// </summary>
public static class ApprovalMethods
{
    /// <summary><see cref="ApprovalListRequest"/> → <see cref="ApprovalList"/>.</summary>
    public const string List = "approvals.list";

    /// <summary><see cref="ApprovalId"/> → <see cref="Approval"/>.</summary>
    public const string Show = "approvals.show";

    /// <summary><see cref="ApprovalId"/> → <see cref="Approval"/> (<c>installed</c> or <c>failed</c>, with <c>error</c>).</summary>
    public const string Approve = "approvals.approve";

    /// <summary><see cref="PluginApprovalRequest"/> → <see cref="Approval"/>: the plugin host asks for a plugin install (from the mesh).</summary>
    public const string RequestPlugin = "approvals.request_plugin";

    /// <summary><see cref="ApprovalId"/> → <see cref="Approval"/> (<c>denied</c>).</summary>
    public const string Deny = "approvals.deny";
}

/// <summary>The life of an approval: pending → installing → installed | failed; pending → denied | expired.</summary>
public static class ApprovalStates
{
    /// <summary>Waiting for a human; nothing is installed.</summary>
    public const string Pending = "pending";
    /// <summary>Approved; pip is installing the set (a restart in this state ends it as failed).</summary>
    public const string Installing = "installing";
    public const string Installed = "installed";
    /// <summary>Approved, but the install did not complete (hash mismatch, index unreachable, ...): <c>error</c> says why.</summary>
    public const string Failed = "failed";
    public const string Denied = "denied";
    /// <summary>Nobody decided within the approval's lifetime.</summary>
    public const string Expired = "expired";
    /// <summary>A mesh call approved: the agent makes the call it waited for (its outcome is in the action log).</summary>
    public const string Approved = "approved";
}

/// <summary>What an approval is for.</summary>
public static class ApprovalKinds
{
    /// <summary>Python packages for the sandbox's venv (<see cref="Approval.Packages"/>).</summary>
    public const string Packages = "packages";

    /// <summary>A call the agent would make to a device on the mesh, which the policy says to ask about (<see cref="Approval.Call"/>).</summary>
    public const string MeshCall = "mesh_call";

    /// <summary>A plugin an admin user sent over the mesh, staged by the plugin host until approved (<see cref="Approval.Plugin"/>).</summary>
    public const string PluginInstall = "plugin_install";
}

/// <summary>The call a <see cref="ApprovalKinds.MeshCall"/> approval is about.</summary>
public sealed record MeshCallApproval
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("function")] public required string Function { get; init; }
    /// <summary>The params as JSON text, exactly as they will be sent.</summary>
    [JsonPropertyName("params")] public required string Params { get; init; }
    /// <summary>The role whose policy said "ask" (<c>admin</c>, <c>user</c>, <c>device</c>).</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }
}

/// <summary>Install these requirements (<c>name</c>, <c>name==1.2</c>, <c>name&gt;=1,&lt;2</c>) once a human approves.</summary>
public sealed record PackageRequest
{
    [JsonPropertyName("specs")] public required IReadOnlyList<string> Specs { get; init; }
    /// <summary>Why, for the person who decides. Optional, one line.</summary>
    [JsonPropertyName("reason")] public string? Reason { get; init; }
}

/// <summary>One wheel of a resolved request: exactly what an approval installs.</summary>
public sealed record ResolvedPackage
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    /// <summary>Lower-case hex sha256 of the wheel file; the install refuses any other bytes.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }
    /// <summary>The wheel's file name.</summary>
    [JsonPropertyName("file")] public required string File { get; init; }
    /// <summary>True when the request named it; false for a dependency.</summary>
    [JsonPropertyName("requested")] public bool Requested { get; init; }
    /// <summary>The version in the venv when the request was resolved (the install replaces it), or null.</summary>
    [JsonPropertyName("installed_version")] public string? InstalledVersion { get; init; }
}

/// <summary>A request waiting for, or past, a human decision. Every key is always present (null when it does not apply).</summary>
public sealed record Approval
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    /// <summary>See <see cref="ApprovalKinds"/>.</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    /// <summary>See <see cref="ApprovalStates"/>.</summary>
    [JsonPropertyName("state")] public required string State { get; init; }
    [JsonPropertyName("created_at")] public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>A pending approval not decided by then becomes <c>expired</c>.</summary>
    [JsonPropertyName("expires_at")] public required DateTimeOffset ExpiresAt { get; init; }
    /// <summary>Who asked, e.g. <c>uid 1000</c>.</summary>
    [JsonPropertyName("requested_by")] public required string RequestedBy { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    /// <summary>The requirements as asked for.</summary>
    [JsonPropertyName("specs")] public required IReadOnlyList<string> Specs { get; init; }
    /// <summary>Every wheel the approval installs, dependencies included (empty for a mesh call).</summary>
    [JsonPropertyName("packages")] public required IReadOnlyList<ResolvedPackage> Packages { get; init; }
    /// <summary>The mesh call a <see cref="ApprovalKinds.MeshCall"/> approval is about; null for packages.</summary>
    [JsonPropertyName("call")] public MeshCallApproval? Call { get; init; }
    /// <summary>The plugin a <see cref="ApprovalKinds.PluginInstall"/> approval installs; null otherwise.</summary>
    [JsonPropertyName("plugin")] public PluginInstallApproval? Plugin { get; init; }
    [JsonPropertyName("decided_at")] public DateTimeOffset? DecidedAt { get; init; }
    /// <summary>Who approved or denied, e.g. <c>uid 0</c>.</summary>
    [JsonPropertyName("decided_by")] public string? DecidedBy { get; init; }
    /// <summary>Why the install failed, or why the approval ended without one.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
}

public sealed record ApprovalId([property: JsonPropertyName("id")] string Id);

/// <summary>What a plugin install would put on the box, as the admin sees it before approving.</summary>
public sealed record PluginInstallApproval
{
    [JsonPropertyName("plugin_id")] public required string PluginId { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    /// <summary>Where it came from: the URL, or "bundle from mesh user NAME".</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }
    /// <summary>The installed version it would replace, or null.</summary>
    [JsonPropertyName("replaces")] public string? Replaces { get; init; }
    [JsonPropertyName("functions")] public required IReadOnlyList<string> Functions { get; init; }
    [JsonPropertyName("network")] public required IReadOnlyList<string> Network { get; init; }
    [JsonPropertyName("secrets")] public required IReadOnlyList<string> Secrets { get; init; }
    [JsonPropertyName("devices")] public required IReadOnlyList<string> Devices { get; init; }
    [JsonPropertyName("memory_mib")] public required int MemoryMib { get; init; }
    [JsonPropertyName("timeout_s")] public required int TimeoutS { get; init; }
    [JsonPropertyName("python_dependencies")] public required IReadOnlyList<string> PythonDependencies { get; init; }
    /// <summary>The plugin host's name for the staged bundle (^[0-9a-f]{24}$).</summary>
    [JsonPropertyName("staged")] public required string Staged { get; init; }
    [JsonPropertyName("load")] public bool Load { get; init; } = true;
}

public sealed record PluginApprovalRequest
{
    [JsonPropertyName("requested_by")] public required string RequestedBy { get; init; }
    [JsonPropertyName("plugin")] public required PluginInstallApproval Plugin { get; init; }
}

/// <summary>Pending approvals only, unless <c>all</c>.</summary>
public sealed record ApprovalListRequest([property: JsonPropertyName("all")] bool All = false);

public sealed record ApprovalList([property: JsonPropertyName("approvals")] IReadOnlyList<Approval> Approvals);

/// <summary>A distribution installed in the venv of approved packages.</summary>
public sealed record InstalledPackage(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version);

/// <param name="Venv">The venv's folder on the host (bound read-only at /opt/boxbot/venv in every job).</param>
/// <param name="Packages">Sorted by name.</param>
public sealed record InstalledPackageList(
    [property: JsonPropertyName("venv")] string Venv,
    [property: JsonPropertyName("packages")] IReadOnlyList<InstalledPackage> Packages);

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false)]
[JsonSerializable(typeof(PackageRequest))]
[JsonSerializable(typeof(Approval))]
[JsonSerializable(typeof(ApprovalId))]
[JsonSerializable(typeof(PluginApprovalRequest))]
[JsonSerializable(typeof(ApprovalListRequest))]
[JsonSerializable(typeof(ApprovalList))]
[JsonSerializable(typeof(InstalledPackageList))]
public sealed partial class PackagesJsonContext : JsonSerializerContext;
