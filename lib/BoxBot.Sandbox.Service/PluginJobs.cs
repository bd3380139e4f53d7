using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Sandbox.Plugins;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// The plugin host's plugins, each one long-lived confined process run here, by the sandbox runner, with a runner of its
/// own (no wall clock, a CPU allowance of a day, output kept as a tail): the plugin host holds the mesh's keys and never
/// runs plugin code itself. A plugin's code is read where the plugin host installed it (by id; <c>staging</c> by name for
/// the describe job at install), its data folder is <c>plugin-data/{id}</c> in the sandbox's state. Only the plugin host's
/// uid (and root) may call these methods.
/// </summary>
internal sealed partial class PluginJobs : IAsyncDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly SandboxRunner _runner;
    private readonly PluginSupervisor _supervisor;
    private readonly string _installed;
    private readonly string _staging;
    private readonly string _dataRoot;
    private readonly ILogger _log;
    private string? _unavailable;

    private PluginJobs(SandboxRunner runner, string installed, string staging, string dataRoot, ILogger log)
    {
        _runner = runner;
        _supervisor = new PluginSupervisor(runner, log, TimeProvider.System);
        _installed = installed;
        _staging = staging;
        _dataRoot = dataRoot;
        _log = log;
    }

    public static PluginJobs Start(DaemonContext context, SandboxRunnerOptions jobOptions)
    {
        var s = context.Config.Sandbox;
        var pluginsRoot = Path.Combine(context.Paths.StateDir(Daemons.PluginHost), "plugins");
        var options = jobOptions with
        {
            JobsDir = Path.Combine(context.StateDir, "plugin-jobs"),
            MaxConcurrentJobs = context.Config.Plugins.MaxPlugins + 2,
            QueueLength = 4,
            WarmJobs = 0,
            Limits = new SandboxLimits(Timeout.InfiniteTimeSpan, TimeSpan.FromDays(1), PluginManifestLimits.MaxMemoryMib * MiB, s.MaxTasks,
                s.MaxOpenFiles, 16 * MiB, 64 * 1024),
        };
        var log = context.Loggers.CreateLogger("plugins");
        var jobs = new PluginJobs(new SandboxRunner(options, log), Path.Combine(pluginsRoot, "installed"), Path.Combine(pluginsRoot, "staging"),
            Path.Combine(context.StateDir, "plugin-data"), log);
        try
        {
            jobs._runner.Validate();
            Directory.CreateDirectory(jobs._dataRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is SandboxException or IOException or UnauthorizedAccessException)
        {
            jobs._unavailable = e.Message;
            log.LogError("plugins cannot run until this is fixed: {Reason}", e.Message);
        }
        jobs.Map(context.Server);
        return jobs;
    }

    private void Map(JsonRpcServer server)
    {
        var json = PluginsJsonContext.Default;
        var pluginHost = CallerPolicy.Of(Principal.Root, Principal.User(Daemons.PluginHost.ServiceUser));
        server.Map(SandboxPluginMethods.Load, pluginHost, json.SandboxPluginSpec, json.SandboxPluginState, LoadAsync, TimeSpan.FromSeconds(45));
        server.Map(SandboxPluginMethods.Unload, pluginHost, json.SandboxPluginId, json.Done, UnloadAsync, TimeSpan.FromSeconds(15));
        server.Map(SandboxPluginMethods.Call, pluginHost, json.SandboxPluginCall, json.SandboxPluginCallResult, CallAsync, TimeSpan.FromSeconds(PluginManifestLimits.MaxTimeoutSeconds + 10));
        server.Map(SandboxPluginMethods.List, pluginHost, json.EmptyParams, json.SandboxPluginStates,
            (_, _, _) => ValueTask.FromResult(new SandboxPluginStates([.. _supervisor.List().Select(State)])));
        server.Map(SandboxPluginMethods.Describe, pluginHost, json.SandboxPluginSpec, json.SandboxPluginOffer, DescribeAsync, TimeSpan.FromSeconds(45));
        server.Map(SandboxPluginMethods.Events, pluginHost, json.SandboxPluginEventsRequest, json.SandboxPluginEvents, EventsAsync, TimeSpan.FromSeconds(40));
    }

    private void RequireAvailable()
    {
        if (_unavailable is not null)
        {
            throw new RpcException(RpcErrorCodes.Unavailable, "plugins cannot run on this host: " + _unavailable);
        }
    }

    private static void RequireId(string id)
    {
        if (!JobPlugin.IsValidId(id))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"plugin_id '{id}' must match ^[a-z0-9][a-z0-9_-]{{0,63}}$");
        }
    }

    private (JobPlugin Plugin, long Memory, TimeSpan Timeout) Resolve(SandboxPluginSpec spec, bool describe)
    {
        RequireAvailable();
        RequireId(spec.PluginId);
        string code;
        if (describe)
        {
            if (spec.Staging is not { } staging || !StagingPattern().IsMatch(staging) || staging.Split('/').Any(p => p is "." or ".."))
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, "staging must name a folder in the plugin host's staging folder, or the one folder in it (NAME or NAME/FOLDER)");
            }
            code = Path.Combine(_staging, staging);
            if (Path.GetDirectoryName(code) is { } parent && parent != _staging && new DirectoryInfo(parent).LinkTarget is not null)
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, $"staging '{staging}' passes through a link");
            }
        }
        else
        {
            code = Path.Combine(_installed, spec.PluginId);
        }
        if (!Directory.Exists(code) || new DirectoryInfo(code).LinkTarget is not null)
        {
            throw new RpcException(RpcErrorCodes.NotFound, describe ? $"no staged plugin '{spec.Staging}'" : $"plugin {spec.PluginId} is not installed");
        }
        if (spec.MemoryMib is < PluginManifestLimits.MinMemoryMib or > PluginManifestLimits.MaxMemoryMib
            || spec.TimeoutS is < 1 or > PluginManifestLimits.MaxTimeoutSeconds)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"memory_mib must be {PluginManifestLimits.MinMemoryMib}-{PluginManifestLimits.MaxMemoryMib} and timeout_s 1-{PluginManifestLimits.MaxTimeoutSeconds}");
        }
        string? data = null;
        if (!describe)
        {
            data = Path.Combine(_dataRoot, spec.PluginId);
            _runner.PrepareDataFolder(data);
        }
        return (new JobPlugin(spec.PluginId, code, data, spec.EntryPoint, spec.ClassName, describe), spec.MemoryMib * MiB, TimeSpan.FromSeconds(spec.TimeoutS));
    }

    private async ValueTask<SandboxPluginState> LoadAsync(SandboxPluginSpec spec, RpcContext rpc, CancellationToken ct)
    {
        var (plugin, memory, timeout) = Resolve(spec, describe: false);
        try
        {
            var state = await _supervisor.LoadAsync(new PluginLaunch(plugin, memory, timeout), ct);
            _log.LogInformation("plugin {Plugin} loaded for uid {Uid}", spec.PluginId, rpc.Peer.Uid);
            return State(state);
        }
        catch (PluginFailedException e)
        {
            throw new RpcException(RpcErrorCodes.Refused, e.Message);
        }
        catch (SandboxException e)
        {
            throw SandboxFaults.ToRpc(e, "run the plugin");
        }
    }

    private async ValueTask<Done> UnloadAsync(SandboxPluginId request, RpcContext rpc, CancellationToken ct)
    {
        RequireId(request.PluginId);
        var was = await _supervisor.UnloadAsync(request.PluginId);
        if (request.PurgeData)
        {
            var data = Path.Combine(_dataRoot, request.PluginId);
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
        return new Done(was);
    }

    private async ValueTask<SandboxPluginCallResult> CallAsync(SandboxPluginCall call, RpcContext rpc, CancellationToken ct)
    {
        RequireId(call.PluginId);
        var outcome = await _supervisor.CallAsync(call.PluginId, call.Function, call.Params?.GetRawText() ?? "{}", call.SourceDevice, ct);
        return new SandboxPluginCallResult
        {
            Result = outcome.ResultJson is null ? null : JsonDocument.Parse(outcome.ResultJson).RootElement.Clone(),
            Error = outcome.Error,
        };
    }

    private async ValueTask<SandboxPluginOffer> DescribeAsync(SandboxPluginSpec spec, RpcContext rpc, CancellationToken ct)
    {
        var (plugin, memory, _) = Resolve(spec, describe: true);
        try
        {
            return Offer(await _supervisor.DescribeAsync(plugin, memory, ct));
        }
        catch (PluginFailedException e)
        {
            throw new RpcException(RpcErrorCodes.Refused, e.Message);
        }
        catch (SandboxException e)
        {
            throw SandboxFaults.ToRpc(e, "import the plugin");
        }
    }

    private async ValueTask<SandboxPluginEvents> EventsAsync(SandboxPluginEventsRequest request, RpcContext rpc, CancellationToken ct)
    {
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, 30_000));
        var events = new List<SandboxPluginEvent>();
        var reader = _supervisor.Events;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait);
        try
        {
            if (!reader.TryPeek(out _))
            {
                await reader.WaitToReadAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        while (events.Count < 100 && reader.TryRead(out var e))
        {
            events.Add(new SandboxPluginEvent(e.PluginId, e.Name, JsonDocument.Parse(e.PayloadJson).RootElement.Clone()));
        }
        return new SandboxPluginEvents(events);
    }

    private static SandboxPluginOffer Offer(PluginOffer offer) => new()
    {
        Functions = JsonDocument.Parse(offer.FunctionsJson).RootElement.Clone(),
        Events = JsonDocument.Parse(offer.EventsJson).RootElement.Clone(),
    };

    private static SandboxPluginState State(PluginRunState s) => new()
    {
        PluginId = s.PluginId,
        State = s.State,
        Offer = s.Offer is null ? null : Offer(s.Offer),
        Restarts = s.Restarts,
        LastError = s.LastError,
        LastOutput = s.LastOutput,
        Calls = s.Calls,
        Failures = s.Failures,
        TimedOut = s.TimedOut,
        Since = s.Since,
    };

    public void AddStatus(IDictionary<string, string> details)
    {
        var states = _supervisor.List();
        details["plugins_loaded"] = states.Count.ToString(CultureInfo.InvariantCulture);
        if (_unavailable is not null)
        {
            details["plugins"] = "unavailable: " + _unavailable;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _supervisor.DisposeAsync();
        await _runner.DisposeAsync();
    }

    [GeneratedRegex("^[a-z0-9-]{1,80}(/[A-Za-z0-9._-]{1,100})?$")]
    private static partial Regex StagingPattern();
}
