using BoxBot.Agent.Identity;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

// The user registry's methods: admin operations for root and the admin group (the CLI), the physical reset for the
// perception daemon's uid only. The rules themselves are in Identity/UserRegistry.cs.
public sealed partial class AgentService
{
    private UserRegistry? _registry;

    private void StartIdentity(DaemonContext context)
    {
        var registry = new UserRegistry(_database!, BoxKey.LoadOrCreate(context.StateDir), TimeProvider.System,
            context.Loggers.CreateLogger<UserRegistry>(), Notify);
        UseRegistry(registry);
        MapIdentity(context.Server, context.Operators, CallerPolicy.Of(Principal.Root, Principal.User(Daemons.Perception.ServiceUser)));
    }

    /// <summary>The registry that inbound routing and the outbound send path ask.</summary>
    internal void UseRegistry(UserRegistry registry) => _registry = registry;

    internal void MapIdentity(JsonRpcServer server, CallerPolicy admins, CallerPolicy resetters)
    {
        var json = UsersJsonContext.Default;
        var empty = ContractsJsonContext.Default.EmptyParams;
        server.Map(UserMethods.List, admins, json.UserListRequest, json.UserList, (p, _, _) => Registry(r => r.List(p.Blocked)));
        server.Map(UserMethods.Remove, admins, json.UserTarget, json.UserChange, (p, rpc, _) => Registry(r => r.Remove(p.Number ?? "", Actor(rpc))));
        server.Map(UserMethods.Promote, admins, json.UserTarget, json.UserChange, (p, rpc, _) => Registry(r => r.Promote(p.Number ?? "", Actor(rpc))));
        server.Map(UserMethods.Demote, admins, json.UserTarget, json.UserChange, (p, rpc, _) => Registry(r => r.Demote(p.Number ?? "", Actor(rpc))));
        server.Map(UserMethods.Unblock, admins, json.UserTarget, json.UserChange, (p, rpc, _) => Registry(r => r.Unblock(p.Number ?? "", Actor(rpc))));
        server.Map(UserMethods.Rename, admins, json.UserRename, json.UserChange,
            (p, rpc, _) => Registry(r => r.Rename(p.Number ?? "", p.Name ?? "", Actor(rpc))));
        server.Map(UserMethods.NewCode, admins, empty, json.RegistrationCode, (_, rpc, _) => Registry(r => r.IssueCode(Actor(rpc))));
        server.Map(UserMethods.BootstrapCode, admins, empty, json.RegistrationCode, (_, rpc, _) => Registry(r => r.IssueBootstrapCode(Actor(rpc))));
        server.Map(UserMethods.Reset, resetters, empty, json.ResetResult, (_, _, _) => Registry(r => r.Reset()));
    }

    private ValueTask<T> Registry<T>(Func<UserRegistry, T> operation)
    {
        var registry = _registry ?? throw new RpcException(RpcErrorCodes.Unavailable, "the user registry is not started");
        try
        {
            return ValueTask.FromResult(operation(registry));
        }
        catch (IdentityException e)
        {
            throw new RpcException(e.Code, e.Message);
        }
    }

    /// <summary>Who did it, for the auth event log: the caller's Unix user name (or uid when it has none).</summary>
    private static string Actor(RpcContext rpc) => UserRegistry.ConsoleIssuer + (UnixAccounts.LookupName(rpc.Peer.Uid) ?? "uid " + rpc.Peer.Uid);

    // The registry's notices (welcome, the revocation alert) go out like any message, after the change is committed,
    // without holding up the inbound batch that caused them.
    private void Notify(string to, string text)
    {
        var outbound = _outbound;
        if (outbound is null)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await outbound.SendTextAsync(to, text, "the user registry", CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.LogWarning("could not send a registry notice to {Number}: {Reason}", to, e.Message);
            }
        });
    }
}
