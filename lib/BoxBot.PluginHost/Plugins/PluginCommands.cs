using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Plugins;

namespace BoxBot.PluginHost.Plugins;

/// <summary>
/// The plugin methods on <c>plugins.sock</c> (<c>boxbot plugins …</c>), for admins only: an admin over SSH installing
/// from the CLI counts as approving the install. Bundles arrive in pieces (<c>plugins.upload</c>); URL installs go
/// through <see cref="PluginDownload"/> under <c>[plugins]</c> (HTTPS, allowed hosts, digest).
/// </summary>
internal static class PluginCommands
{
    public static void Map(JsonRpcServer server, DaemonContext context, PluginManager plugins)
    {
        var json = PluginsJsonContext.Default;
        var admins = context.Operators;
        var options = context.Config.Plugins;
        static string Who(RpcContext rpc) => $"uid {rpc.Peer.Uid} (admin, local)";

        server.Map(PluginMethods.List, admins, json.EmptyParams, json.PluginList, async (_, _, ct) => await plugins.ListAsync(ct));
        server.Map(PluginMethods.Info, admins, json.PluginIdRequest, json.PluginInfo, async (p, _, ct) => await plugins.InfoAsync(p.PluginId, ct));
        server.Map(PluginMethods.Upload, admins, json.PluginUploadChunk, json.PluginUploadState, (p, _, _) => ValueTask.FromResult(plugins.Upload(p)));
        server.Map(PluginMethods.Install, admins, json.PluginInstallRequest, json.PluginInstallResult, async (p, rpc, ct) =>
        {
            if ((p.UploadId is null) == (p.Url is null))
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, "name either upload_id (a bundle uploaded with plugins.upload) or url");
            }
            if (p.UploadId is { } upload)
            {
                return await plugins.InstallAsync(plugins.TakeUpload(upload), p.Digest, "bundle", Who(rpc), p.Replace, p.Load, ct);
            }
            if (!Uri.TryCreate(p.Url, UriKind.Absolute, out var url))
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, $"url '{p.Url}' is not an absolute URL");
            }
            DownloadedBundle bundle;
            try
            {
                using var download = new PluginDownload();
                bundle = await download.GetAsync(url, p.Digest, new PluginDownloadOptions(options.AllowedHosts, options.RequireDigest), null, ct);
            }
            catch (PluginDownloadException e)
            {
                throw new RpcException(RpcErrorCodes.Refused, e.Message);
            }
            return await plugins.InstallAsync(bundle.Bytes, p.Digest, url.ToString(), Who(rpc), p.Replace, p.Load, ct);
        }, TimeSpan.FromSeconds(180));
        server.Map(PluginMethods.Load, admins, json.PluginIdRequest, json.PluginInfo, async (p, _, ct) => await plugins.LoadAsync(p.PluginId, remember: true, ct),
            TimeSpan.FromSeconds(60));
        server.Map(PluginMethods.Unload, admins, json.PluginIdRequest, json.PluginInfo, async (p, _, ct) =>
        {
            await plugins.UnloadAsync(p.PluginId, ct);
            return await plugins.InfoAsync(p.PluginId, ct);
        }, TimeSpan.FromSeconds(30));
        server.Map(PluginMethods.Reload, admins, json.PluginIdRequest, json.PluginInfo, async (p, _, ct) =>
        {
            await plugins.UnloadAsync(p.PluginId, ct);
            return await plugins.LoadAsync(p.PluginId, remember: true, ct);
        }, TimeSpan.FromSeconds(60));
        // Only the agent, after an admin approved a plugin that came over the mesh (it keeps the approvals).
        var agent = CallerPolicy.Of(Principal.Root, Principal.Self, Principal.User(Daemons.Agent.ServiceUser));
        server.Map(PluginMethods.InstallApproved, agent, json.PluginApproved, json.PluginInstallResult,
            async (p, _, ct) => await plugins.InstallApprovedAsync(p, ct), TimeSpan.FromSeconds(150));
        server.Map(PluginMethods.Remove, admins, json.PluginIdRequest, json.PluginInfo, async (p, rpc, ct) => await plugins.RemoveAsync(p.PluginId, Who(rpc), ct),
            TimeSpan.FromSeconds(30));
    }
}
