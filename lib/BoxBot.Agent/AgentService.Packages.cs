using BoxBot.Agent.Identity;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

/// <summary>The <c>packages.*</c> and <c>approvals.*</c> methods: admins request, list, approve and deny (docs/packages.md).</summary>
public sealed partial class AgentService
{
    // Resolving and installing wait for pip (and for each other: one pip at a time), each run bounded by PipTimeout.
    private static readonly TimeSpan PipCallMargin = TimeSpan.FromSeconds(30);

    private PackageApprovals? _packages;

    private void StartPackages(DaemonContext context)
    {
        var agent = context.Config.Agent;
        _packages = new PackageApprovals(new PackageOptions
        {
            Python = context.Config.Sandbox.Python,
            Venv = context.Paths.SandboxVenv,
            StateDir = context.StateDir,
            IndexUrl = agent.PackageIndexUrl,
            FindLinks = agent.PackageFindLinks,
        }, TimeProvider.System, _log);
        var packages = _packages;
        var pip = PackageOptions.DefaultPipTimeout;
        var json = PackagesJsonContext.Default;
        var admins = context.Operators;
        var server = context.Server;
        server.Map(PackageMethods.Request, admins, json.PackageRequest, json.Approval,
            async (p, rpc, ct) => await packages.RequestAsync(p, Caller(rpc), ct), 2 * pip + PipCallMargin);
        server.Map(PackageMethods.List, admins, ContractsJsonContext.Default.EmptyParams, json.InstalledPackageList,
            async (_, _, ct) => await packages.InstalledAsync(ct));
        server.Map(ApprovalMethods.List, admins, json.ApprovalListRequest, json.ApprovalList,
            (p, _, _) => ValueTask.FromResult(new ApprovalList(packages.Store.List(p.All))));
        server.Map(ApprovalMethods.Show, admins, json.ApprovalId, json.Approval,
            (p, _, _) => ValueTask.FromResult(packages.Store.Get(p.Id)));
        // The install does not stop when the caller goes away; the method's limit covers the venv, the version query and pip.
        server.Map(ApprovalMethods.Approve, admins, json.ApprovalId, json.Approval,
            async (p, rpc, _) => packages.Store.Get(p.Id).Kind switch
            {
                ApprovalKinds.MeshCall => ApproveMeshCall(packages.Store, p.Id, Caller(rpc)),
                ApprovalKinds.PluginInstall => await ApprovePluginAsync(packages.Store, context.Paths.SocketPath(Daemons.PluginHost), p.Id, Caller(rpc)),
                _ => await packages.ApproveAsync(p.Id, Caller(rpc)),
            }, 3 * pip + PipCallMargin);
        // The plugin host stages what an admin user sends over the mesh and asks here; an admin approves like anything else.
        server.Map(ApprovalMethods.RequestPlugin, CallerPolicy.Of(Principal.Root, Principal.Self, Principal.User(Daemons.PluginHost.ServiceUser)),
            json.PluginApprovalRequest, json.Approval, (p, _, _) =>
            {
                var approval = packages.Store.AddPluginInstall(p.RequestedBy, p.Plugin);
                _log.LogInformation("plugin install {Plugin} {Version} ({Digest}) from {By} waits for an admin: approval {Id}", p.Plugin.PluginId,
                    p.Plugin.Version, p.Plugin.Digest, p.RequestedBy, approval.Id);
                return ValueTask.FromResult(approval);
            });
        server.Map(ApprovalMethods.Deny, admins, json.ApprovalId, json.Approval,
            (p, rpc, _) => ValueTask.FromResult(packages.Deny(p.Id, Caller(rpc))));
    }

    private Approval ApproveMeshCall(ApprovalStore store, string id, string by)
    {
        var approval = store.ApproveCall(id, by);
        _log.LogInformation("mesh call {Device}.{Function} (approval {Id}) approved by {By}", approval.Call!.DeviceId, approval.Call.Function, id, by);
        return approval;
    }

    /// <summary>
    /// An approved plugin install: pending → installing, then the plugin host installs what it staged (checking the digest
    /// the admin saw again) → installed or failed with its reason.
    /// </summary>
    private async Task<Approval> ApprovePluginAsync(ApprovalStore store, string pluginSocket, string id, string by)
    {
        var approval = store.BeginInstall(id, by);
        var plugin = approval.Plugin!;
        string? error = null;
        try
        {
            await using var host = await JsonRpcClient.ConnectAsync(pluginSocket);
            await host.CallAsync(PluginMethods.InstallApproved, new PluginApproved
            {
                ApprovalId = id,
                Staged = plugin.Staged,
                Digest = plugin.Digest,
                ApprovedBy = by,
                Load = plugin.Load,
            }, PluginsJsonContext.Default.PluginApproved, PluginsJsonContext.Default.PluginInstallResult, TimeSpan.FromSeconds(150));
        }
        catch (Exception e) when (e is RpcException or IpcException)
        {
            error = e.Message;
        }
        _log.LogInformation("plugin install {Plugin} (approval {Id}) approved by {By}: {Outcome}", plugin.PluginId, id, by, error ?? "installed");
        return store.Finish(id, error);
    }

    /// <summary>Who asked, as every console actor is named (users, codes, the action log): console:&lt;unix user&gt;.</summary>
    private static string Caller(RpcContext rpc) => UserRegistry.ConsoleIssuer + (UnixAccounts.LookupName(rpc.Peer.Uid) ?? "uid " + rpc.Peer.Uid);
}
