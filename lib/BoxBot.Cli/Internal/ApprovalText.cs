using System.Globalization;
using System.Text;
using BoxBot.Contracts;

namespace BoxBot.Cli.Internal;

/// <summary>How approvals and packages read on a terminal. Every field printed was checked by the agent (no control characters).</summary>
internal static class ApprovalText
{
    /// <summary>The full record: what a person needs to decide, and what became of it.</summary>
    public static string Details(Approval a)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"approval {a.Id}: {a.State}{(a.State == ApprovalStates.Pending ? $" until {Time(a.ExpiresAt)}" : "")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  requested by {a.RequestedBy} at {Time(a.CreatedAt)}: {string.Join(' ', a.Specs)}");
        if (a.Reason is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  reason: {a.Reason}");
        }
        if (a.Call is { } call)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  the agent would call {call.DeviceId}.{call.Function} on the mesh (the [mesh.policy.{call.Role}] rules say ask) with:");
            text.AppendLine(CultureInfo.InvariantCulture, $"    {call.Params}");
        }
        else if (a.Plugin is { } p)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(a.State == ApprovalStates.Installed ? "installed" : "installs")} plugin {p.PluginId} {p.Version}{(p.Replaces is { } old ? ", replacing " + old : "")}, from {p.Source}");
            text.AppendLine(CultureInfo.InvariantCulture, $"    digest     {p.Digest}");
            text.AppendLine(CultureInfo.InvariantCulture, $"    functions  {(p.Functions.Count == 0 ? "-" : string.Join(", ", p.Functions))}");
            text.AppendLine(CultureInfo.InvariantCulture, $"    may use    network {(p.Network.Count == 0 ? "none" : string.Join(", ", p.Network))}; secrets {(p.Secrets.Count == 0 ? "none" : string.Join(", ", p.Secrets))}; devices {(p.Devices.Count == 0 ? "none" : string.Join(", ", p.Devices))}; {p.MemoryMib} MiB; {p.TimeoutS} s a call");
            if (p.PythonDependencies.Count > 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    python     {string.Join(", ", p.PythonDependencies)} (not installed by this approval)");
            }
        }
        else
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(a.State == ApprovalStates.Installed ? "installed" : "installs")} exactly {a.Packages.Count} wheel{(a.Packages.Count == 1 ? "" : "s")}:");
        }
        foreach (var p in a.Packages)
        {
            var notes = new List<string> { p.Requested ? "requested" : "dependency" };
            if (p.InstalledVersion is { } installed)
            {
                notes.Add(installed == p.Version ? "reinstalls the same version" : "replaces " + installed);
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"    {p.Name} {p.Version} ({string.Join(", ", notes)})");
            text.AppendLine(CultureInfo.InvariantCulture, $"      {p.File} sha256:{p.Sha256}");
        }
        if (a.DecidedAt is { } decided)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {Verb(a.State)} at {Time(decided)}{(a.DecidedBy is null ? "" : " by " + a.DecidedBy)}");
        }
        if (a.Error is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  error: {a.Error}");
        }
        if (a.State == ApprovalStates.Pending)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Approve with `boxbot approvals approve {a.Id}`, deny with `boxbot approvals deny {a.Id}`.");
        }
        return text.ToString();
    }

    /// <summary>One line per approval, under a header.</summary>
    public static string Table(IReadOnlyList<Approval> approvals)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"ID",-8}  {"STATE",-10}  {"SINCE",-26}  {"REQUESTED BY",-12}  FOR");
        foreach (var a in approvals)
        {
            var packages = a.Call is { } call ? $"mesh call {call.DeviceId}.{call.Function}"
                : a.Plugin is { } plugin ? $"plugin {plugin.PluginId} {plugin.Version} ({plugin.Digest[..19]}…)"
                : string.Join(", ", a.Packages.Select(p => $"{p.Name}=={p.Version}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"{a.Id,-8}  {a.State,-10}  {Time(a.DecidedAt ?? a.CreatedAt),-26}  {a.RequestedBy,-12}  {packages}");
        }
        return text.ToString();
    }

    public static string Packages(IEnumerable<ResolvedPackage> packages) => string.Join(", ", packages.Select(p => $"{p.Name} {p.Version}"));

    /// <summary>Local time with its offset, so it reads right and is unambiguous.</summary>
    public static string Time(DateTimeOffset t) => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    private static string Verb(string state) => state switch
    {
        ApprovalStates.Denied => "denied",
        ApprovalStates.Expired => "expired",
        _ => "approved",
    };
}
