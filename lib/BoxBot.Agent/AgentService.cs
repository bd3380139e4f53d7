using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

/// <summary>
/// The agent daemon's own work so far: the secret store (<c>secrets.*</c>), running scripts in the
/// sandbox for admins (<c>sandbox.run</c>), resolving the secrets a script names from the store so
/// values never pass through the CLI or any log, and approved packages for those scripts
/// (<c>packages.*</c>, <c>approvals.*</c>; <c>AgentService.Packages.cs</c>).
/// </summary>
public sealed partial class AgentService : IDaemonService
{
    /// <summary>Largest script accepted, in bytes of UTF-8.</summary>
    public const int MaxScriptBytes = SandboxRunRequest.MaxScriptBytes;
    // The sandbox's own limit on the call (queueing and start-up included), and a little for the relay.
    private static readonly TimeSpan SandboxCallMargin = TimeSpan.FromSeconds(10);

    private SecretStore? _secrets;
    private string _sandboxSocket = "";
    // Connections to the sandbox that finished a call cleanly, kept for the next one: an admin's or the model's next
    // script then skips the connect and the client's start (measured in bench/: part of the agent's hop).
    private readonly System.Collections.Concurrent.ConcurrentBag<JsonRpcClient> _idleSandbox = [];
    private const int MaxIdleSandboxConnections = 4;
    private TimeSpan _longestRunCall;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        _log = context.Loggers.CreateLogger<AgentService>();
        Directory.CreateDirectory(context.StateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _secrets = new SecretStore(Path.Combine(context.StateDir, "secrets.json"));
        _sandboxSocket = context.Paths.SocketPath(Daemons.Sandbox);
        _longestRunCall = context.Config.Sandbox.LongestRunCall;
        var json = SandboxJsonContext.Default;
        var server = context.Server;
        MapSecrets(server, context.Operators, SecretMethods.List, SecretMethods.Set, SecretMethods.Delete, rpc => $"uid {rpc.Peer.Uid}");
        // A job's bb.secrets calls, relayed by the sandbox daemon: store and delete, list and test names; never read.
        var sandbox = CallerPolicy.Of(Principal.Root, Principal.User(Daemons.Sandbox.ServiceUser));
        MapSecrets(server, sandbox, SdkSecretMethods.List, SdkSecretMethods.Store, SdkSecretMethods.Delete, _ => "a sandbox job");
        server.Map(SdkSecretMethods.Has, sandbox, json.SecretName, json.SecretPresence,
            (p, _, _) => ValueTask.FromResult(new SecretPresence(_secrets.Names().Contains(p.Name))));
        server.Map(SandboxMethods.Run, context.Operators, json.SandboxRunRequest, json.SandboxRunResult, RunAsync,
            _longestRunCall + SandboxCallMargin);
        StartPackages(context);
        StartMesh(context);
        StartInbound(context);
        StartOutbound(context);
        StartConversations(context);
        MapSkills(server, sandbox, () => _skills);
        return Task.CompletedTask;
    }

    /// <summary>List, store and delete on the secret store under one policy; the log names the secret and <paramref name="caller"/>, never the value.</summary>
    private void MapSecrets(JsonRpcServer server, CallerPolicy policy, string list, string set, string delete, Func<RpcContext, string> caller)
    {
        var json = SandboxJsonContext.Default;
        server.Map(list, policy, ContractsJsonContext.Default.EmptyParams, json.SecretList,
            (_, _, _) => ValueTask.FromResult(new SecretList(_secrets!.Names())));
        server.Map(set, policy, json.SecretValue, json.Done, (p, rpc, _) =>
        {
            _secrets!.Set(p.Name, p.Value);
            _log.LogInformation("secret {Name} set by {Caller}", p.Name, caller(rpc));
            return ValueTask.FromResult(new Done(true));
        });
        server.Map(delete, policy, json.SecretName, json.Done, (p, rpc, _) =>
        {
            var deleted = _secrets!.Delete(p.Name);
            _log.LogInformation("secret {Name} {Outcome} by {Caller}", p.Name, deleted ? "deleted" : "not found for deletion", caller(rpc));
            return ValueTask.FromResult(new Done(deleted));
        });
    }

    private async ValueTask<SandboxRunResult> RunAsync(SandboxRunRequest request, RpcContext rpc, CancellationToken cancellationToken) =>
        (await RunScriptAsync(request, $"uid {rpc.Peer.Uid}", cancellationToken)).Result;

    /// <summary>Runs a script in the sandbox with the named secrets filled in from the store; returns the values too, so callers can redact them.</summary>
    internal async Task<(SandboxRunResult Result, IReadOnlyDictionary<string, string> Secrets)> RunScriptAsync(SandboxRunRequest request, string caller,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Script) || System.Text.Encoding.UTF8.GetByteCount(request.Script) > MaxScriptBytes)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"the script must be 1 byte to {MaxScriptBytes / 1024} KiB of UTF-8 text");
        }
        if (request.Script.Contains('\0', StringComparison.Ordinal))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "the script holds a NUL character: it is not Python source");
        }
        if (request.Network is not (null or "none" or "internet"))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "network must be \"none\" or \"internet\"");
        }
        var job = new SandboxJob
        {
            Script = request.Script,
            Secrets = _secrets!.Resolve(request.Secrets),
            TimeoutSeconds = request.TimeoutSeconds,
            MemoryMiB = request.MemoryMiB,
            Network = request.Network,
        };
        JsonRpcClient? sandbox = null;
        var reusable = false;
        try
        {
            sandbox = await SandboxClientAsync(cancellationToken);
            var result = await sandbox.CallAsync(SandboxMethods.Run, job, SandboxJsonContext.Default.SandboxJob, SandboxJsonContext.Default.SandboxRunResult,
                _longestRunCall + SandboxCallMargin, cancellationToken);
            reusable = true;
            _log.LogInformation("sandbox job {Job} for {Caller} with secrets [{Secrets}]: {Status} {KilledBy}",
                result.JobId, caller, string.Join(", ", job.Secrets.Keys), result.Status, result.KilledBy ?? "");
            return (result, job.Secrets);
        }
        catch (IpcException e)
        {
            throw new RpcException(RpcErrorCodes.Unavailable, "the sandbox is not reachable: " + e.Message);
        }
        finally
        {
            if (sandbox is not null)
            {
                if (reusable && sandbox.IsConnected && _idleSandbox.Count < MaxIdleSandboxConnections)
                {
                    _idleSandbox.Add(sandbox);
                }
                else
                {
                    await sandbox.DisposeAsync();
                }
            }
        }
    }

    /// <summary>
    /// A connection to the sandbox's socket: one kept from an earlier call that is still open, else a new one. A kept
    /// connection carries one call at a time, as a new one would; one the sandbox closed meanwhile is dropped, never used.
    /// </summary>
    private async Task<JsonRpcClient> SandboxClientAsync(CancellationToken cancellationToken)
    {
        while (_idleSandbox.TryTake(out var kept))
        {
            if (kept.IsConnected)
            {
                return kept;
            }
            await kept.DisposeAsync();
        }
        return await JsonRpcClient.ConnectAsync(_sandboxSocket, cancellationToken);
    }

    public Task StopAcceptingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details)
    {
        details["secrets"] = (_secrets?.Names().Count ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        details["pending_approvals"] = (_packages?.Store.PendingCount ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        details["whatsapp_inbox"] = (_whatsAppLog?.InboxCount ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        AddOutboundStatus(details);
        AddConversationStatus(details);
        if (_registry is not null)
        {
            details["bootstrap"] = _registry.IsBootstrapOpen ? "open" : "closed";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeConversationsAsync();
        await DisposeOutboundAsync();
        await DisposeInboundAsync();
        if (_packages is not null)
        {
            await _packages.DisposeAsync();
        }
        while (_idleSandbox.TryTake(out var kept))
        {
            await kept.DisposeAsync();
        }
    }
}
