using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Linux;
using BoxBot.Mesh.Broker;
using BoxBot.PluginHost.Mesh;
using BoxBot.PluginHost.Plugins;
using BoxBot.Plugins;
using Microsoft.Extensions.Logging;

namespace BoxBot.PluginHost;

/// <summary>
/// The plugin host: the box on the Device Connect mesh (<c>[mesh]</c>; docs/mesh.md). The mesh being unreachable or
/// misconfigured does not stop the daemon: <c>system.status</c> and <c>mesh.status</c> say why, and it keeps retrying.
/// On <c>plugins.sock</c>: the mesh methods for the agent and admins, the household broker's users for admins, and the
/// plugins (<see cref="PluginManager"/>; each runs in the sandbox runner) for admins.
/// </summary>
public sealed class PluginHostService : IDaemonService
{
    private MeshService? _mesh;
    private PluginManager? _plugins;
    private SandboxPlugins? _sandbox;
    private readonly CancellationTokenSource _stop = new();
    private Task _starting = Task.CompletedTask;
    private int _disposed;

    public Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        var log = context.Loggers.CreateLogger<PluginHostService>();
        var settings = context.Config.Mesh;
        _mesh = new MeshService(settings, context.Paths, context.Credentials, log, TimeProvider.System, ReloadBroker(context.Paths, log));
        MapMethods(context.Server, context, _mesh);
        var pluginLog = context.Loggers.CreateLogger("plugins");
        _sandbox = new SandboxPlugins(context.Paths.SocketPath(Daemons.Sandbox));
        var store = new PluginStore(Path.Combine(context.StateDir, "plugins"), context.Config.Plugins.MaxPlugins, TimeProvider.System);
        _plugins = new PluginManager(store, _sandbox, context.Config.Plugins, pluginLog, TimeProvider.System);
        _mesh.ExtraFunctions = _plugins.MeshFunctions;
        _mesh.AdminFunctions = new PluginAdminFunctions(_plugins, context.Config.Plugins, context.Paths.SocketPath(Daemons.Agent), TimeProvider.System).Functions();
        _plugins.Changed = _mesh.RefreshFunctions;
        _plugins.Publish = _mesh.PublishAsync;
        PluginCommands.Map(context.Server, context, _plugins);
        _mesh.Start();
        _starting = Task.Run(() => _plugins.StartAsync(_stop.Token));
        return Task.CompletedTask;
    }

    /// <summary>
    /// How the household broker learns of a revocation. Installed: the path unit boxbot-nats-reload.path sees accounts.conf
    /// change and reloads the broker (the plugin host may not signal another user's process). Development: the broker that
    /// `boxbot dev up` started runs as this user, so a SIGHUP to the pid in its pid file.
    /// </summary>
    private static Action ReloadBroker(BoxPaths paths, ILogger log)
    {
        if (!paths.IsDevelopment)
        {
            return () => log.LogInformation("mesh: accounts.conf rewritten; boxbot-nats-reload.path reloads the broker");
        }
        var pidFile = BrokerPaths.For(paths).PidFile;
        return () =>
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && LinuxProcess.Signal(pid, LinuxProcess.SIGHUP))
            {
                log.LogInformation("mesh: asked the broker (pid {Pid}) to reload", pid);
            }
            else
            {
                log.LogWarning("mesh: could not signal the broker through {PidFile}; it reloads when it next starts", pidFile);
            }
        };
    }

    private static void MapMethods(JsonRpcServer server, DaemonContext context, MeshService mesh)
    {
        var json = MeshJsonContext.Default;
        var empty = ContractsJsonContext.Default.EmptyParams;
        var admins = context.Operators;
        var agentUser = Daemons.Agent.ServiceUser;
        var agentUid = UnixAccounts.LookupUid(agentUser);
        var agentAndAdmins = CallerPolicy.Of(Principal.Root, Principal.Self, Principal.Group(context.Config.Box.AdminGroup), Principal.User(agentUser));
        bool FromAgent(RpcContext rpc) => agentUid is { } uid && rpc.Peer.Uid == uid && rpc.Peer.Uid != 0 && rpc.Peer.Uid != LinuxProcess.EffectiveUid;
        string Caller(RpcContext rpc) => FromAgent(rpc) ? "the agent" : $"uid {rpc.Peer.Uid}";

        server.Map(MeshMethods.Status, agentAndAdmins, empty, json.MeshStatus, (_, _, _) => ValueTask.FromResult(mesh.Status()));
        server.Map(MeshMethods.Devices, agentAndAdmins, empty, json.MeshDeviceList, async (_, _, ct) => await mesh.DevicesAsync(ct));
        server.Map(MeshMethods.Describe, agentAndAdmins, json.MeshDeviceId, json.MeshDeviceDescription,
            async (p, _, ct) => await mesh.DescribeAsync(p.DeviceId, ct));
        server.Map(MeshMethods.Invoke, agentAndAdmins, json.MeshInvokeRequest, json.MeshInvokeResult,
            async (p, rpc, ct) =>
            {
                // The agent says for whom it calls (the role whose policy applies); the host checks that policy again. A call
                // that names a role is checked whoever makes it; the agent's uid must name one.
                if (FromAgent(rpc) && p.Role is null)
                {
                    throw new RpcException(RpcErrorCodes.InvalidParams, "the agent's calls name the role whose mesh policy applies");
                }
                return await mesh.InvokeAsync(p, checkPolicy: p.Role is not null, Caller(rpc), ct);
            }, TimeSpan.FromSeconds(65));

        BrokerAuthority Authority() => mesh.Authority ?? throw new RpcException(RpcErrorCodes.Refused,
            context.Config.Mesh.Broker == BoxBot.Config.MeshBroker.Local
                ? $"the box is not on its own broker yet: {mesh.State}"
                : "the box does not run its own broker (mesh.broker is not \"local\"): users are the other broker's to manage");
        server.Map(MeshMethods.Users, admins, empty, json.MeshUserList, (_, _, _) =>
            ValueTask.FromResult(new MeshUserList([.. Authority().Users.Select(Info)])));
        server.Map(MeshMethods.AddDevice, admins, json.MeshDeviceAddRequest, json.MeshIssued, (p, rpc, _) =>
        {
            var issued = Guard(() => Authority().AddDevice(p.DeviceId, p.DeviceType, p.MayCall, p.LegacyInbox));
            context.Loggers.CreateLogger<PluginHostService>().LogInformation("mesh: device user {Name} added by uid {Uid} (may call: {Callees})",
                p.DeviceId, rpc.Peer.Uid, string.Join(", ", p.MayCall));
            return ValueTask.FromResult(Issued(issued, mesh, context));
        });
        server.Map(MeshMethods.AddAdmin, admins, json.MeshAdminAddRequest, json.MeshIssued, (p, rpc, _) =>
        {
            var issued = Guard(() => Authority().AddAdmin(p.Name, p.LegacyInbox));
            context.Loggers.CreateLogger<PluginHostService>().LogInformation("mesh: admin user {Name} added by uid {Uid}", p.Name, rpc.Peer.Uid);
            return ValueTask.FromResult(Issued(issued, mesh, context));
        });
        server.Map(MeshMethods.RemoveUser, admins, json.MeshUserRemoveRequest, json.MeshUserInfo, (p, rpc, _) =>
        {
            if (p.Kind is not (MeshUser.DeviceKind or MeshUser.AdminKind))
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, "kind must be \"device\" or \"admin\"");
            }
            var removed = Authority().Remove(p.Name, p.Kind)
                ?? throw new RpcException(RpcErrorCodes.NotFound, $"no mesh {p.Kind} named '{p.Name}' (see `boxbot mesh {p.Kind} list`)");
            context.Loggers.CreateLogger<PluginHostService>().LogInformation("mesh: {Kind} user {Name} removed and revoked by uid {Uid}", p.Kind, p.Name, rpc.Peer.Uid);
            return ValueTask.FromResult(Info(removed));
        });
    }

    private static IssuedUser Guard(Func<IssuedUser> add)
    {
        try
        {
            return add();
        }
        catch (ArgumentException e)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(RpcErrorCodes.Refused, e.Message);
        }
    }

    private static MeshIssued Issued(IssuedUser issued, MeshService mesh, DaemonContext context) => new()
    {
        User = Info(issued.User),
        Jwt = issued.Jwt,
        Seed = issued.Seed,
        Tenant = mesh.Identity.Tenant,
        Urls = MeshConnector.DeviceUrls(context.Config.Mesh, context.Paths),
        CaPem = mesh.Authority?.CaPem,
    };

    private static MeshUserInfo Info(MeshUser u) => new()
    {
        Name = u.Name,
        Kind = u.Kind,
        PublicKey = u.PublicKey,
        DeviceType = u.DeviceType,
        MayCall = u.MayCall,
        LegacyInbox = u.LegacyInbox,
        AddedAt = u.AddedAt,
    };

    public Task StopAcceptingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details) => _mesh?.AddStatus(details);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            await _starting;
        }
        catch (OperationCanceledException)
        {
        }
        if (_plugins is not null)
        {
            await _plugins.DisposeAsync();
        }
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
        _stop.Dispose();
    }
}
