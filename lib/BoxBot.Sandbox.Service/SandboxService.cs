using System.Globalization;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// Serves <c>sandbox.run</c>. Only the agent's uid (and root) may call it: the agent has already
/// checked who asked and resolved the secrets. When the runner cannot confine jobs on this host
/// (neither root nor the job user, no user namespaces, job user missing, no interpreter), the daemon still
/// answers status, and every job is refused with the reason: nothing ever runs unconfined.
/// </summary>
public sealed class SandboxService : IDaemonService
{
    private const long MiB = 1024 * 1024;
    private SandboxRunner? _runner;
    private string? _unavailable;
    private SandboxLimits _limits = SandboxLimits.Default;
    private AgentSdkHost? _sdkHost;
    private DevEgress? _devEgress;
    private PluginJobs? _plugins;

    public Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        var s = context.Config.Sandbox;
        var log = context.Loggers.CreateLogger<SandboxService>();
        _limits = new SandboxLimits(s.Timeout, s.Cpu, s.MemoryMiB * MiB, s.MaxTasks, s.MaxOpenFiles, s.WorkspaceMiB * MiB, s.OutputKiB * 1024);
        var options = new SandboxRunnerOptions
        {
            JobsDir = Path.Combine(context.StateDir, "jobs"),
            LauncherPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell the path of this executable"),
            Python = s.Python,
            JobUser = s.JobUser,
            MaxConcurrentJobs = s.MaxConcurrentJobs,
            QueueLength = s.QueueLength,
            WarmJobs = s.WarmJobs,
            Limits = _limits,
            SdkRuntimePath = FindRuntime(),
            VenvPath = context.Paths.SandboxVenv,
            EgressSocket = context.Paths.EgressSocket,
        };
        if (context.Paths.IsDevelopment)
        {
            _devEgress = DevEgress.Start(context.Paths.EgressSocket, context.Loggers.CreateLogger("egress"));
        }
        _sdkHost = new AgentSdkHost(context.Paths.SocketPath(Daemons.Agent), context.Config.Ipc.RequestTimeout);
        _runner = new SandboxRunner(options, context.Loggers.CreateLogger<SandboxRunner>());
        try
        {
            _runner.Validate();
        }
        catch (SandboxException e)
        {
            _unavailable = e.Message;
            log.LogError("sandbox jobs are refused until this is fixed: {Reason}", e.Message);
        }

        _plugins = PluginJobs.Start(context, options);

        // Queued jobs wait for running ones; the call may last that long, and no longer.
        context.Server.Map(SandboxMethods.Run, CallerPolicy.Of(Principal.Root, Principal.User(Daemons.Agent.ServiceUser)),
            SandboxJsonContext.Default.SandboxJob, SandboxJsonContext.Default.SandboxRunResult, RunAsync, s.LongestRunCall);
        return Task.CompletedTask;
    }

    private async ValueTask<SandboxRunResult> RunAsync(SandboxJob job, RpcContext rpc, CancellationToken cancellationToken)
    {
        if (_unavailable is not null)
        {
            throw new RpcException(RpcErrorCodes.Unavailable, "sandbox jobs cannot run on this host: " + _unavailable);
        }
        var request = ToRequest(job);
        try
        {
            var r = await _runner!.RunAsync(request, cancellationToken);
            var limits = _limits with { Wall = request.Timeout ?? _limits.Wall, MemoryBytes = request.MemoryBytes ?? _limits.MemoryBytes };
            return new SandboxRunResult
            {
                Explanation = JobExplanation.Explain(r, limits, _limits, request.Network == JobNetwork.Internet),
                JobId = r.JobId,
                Status = r.Status,
                ExitCode = r.ExitCode,
                KilledBy = r.KilledBy,
                Syscall = r.Syscall,
                Stdout = r.Stdout,
                Stderr = r.Stderr,
                StdoutTruncated = r.StdoutTruncated,
                StderrTruncated = r.StderrTruncated,
                DurationMs = r.DurationMs,
                Error = r.Error,
                SdkCalls = r.SdkCalls,
                Attachments = [.. r.Attachments.Select(a => new SandboxAttachment(a.Name, a.Content.LongLength, a.Content))],
            };
        }
        catch (SandboxException e)
        {
            throw SandboxFaults.ToRpc(e, "run the job");
        }
    }

    /// <summary>The job is untrusted input even from the agent: every field is checked (here, or by the runner) against the configured maxima.</summary>
    private JobRequest ToRequest(SandboxJob job)
    {
        if (string.IsNullOrEmpty(job.Script) || System.Text.Encoding.UTF8.GetByteCount(job.Script) > SandboxRunRequest.MaxScriptBytes)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"the script must be 1 byte to {SandboxRunRequest.MaxScriptBytes / 1024} KiB of UTF-8 text");
        }
        if (job.Secrets is null)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "secrets must be an object of names and values ({} for none)");
        }
        // Secret names, values and count: the runner checks them (SecretRules) before admitting the job;
        // its SandboxRequestException becomes InvalidParams below.
        var network = job.Network switch
        {
            null or "none" => JobNetwork.None,
            "internet" => JobNetwork.Internet,
            _ => throw new RpcException(RpcErrorCodes.InvalidParams, "network must be \"none\" or \"internet\""),
        };
        TimeSpan? timeout = null;
        if (job.TimeoutSeconds is { } seconds)
        {
            timeout = seconds >= 1 && seconds <= _limits.Wall.TotalSeconds
                ? TimeSpan.FromSeconds(seconds)
                : throw new RpcException(RpcErrorCodes.InvalidParams, $"the job's time limit must be 1 to {_limits.Wall.TotalSeconds:0} seconds ([sandbox] timeout_s = {_limits.Wall.TotalSeconds:0} is the most a job may ask for)");
        }
        long? memory = null;
        if (job.MemoryMiB is { } mib)
        {
            memory = mib >= 32 && mib * MiB <= _limits.MemoryBytes
                ? mib * MiB
                : throw new RpcException(RpcErrorCodes.InvalidParams, $"the job's memory limit must be 32 to {_limits.MemoryBytes / MiB} MiB ([sandbox] memory_mib = {_limits.MemoryBytes / MiB} is the most a job may ask for)");
        }
        return new JobRequest { Script = job.Script, Secrets = job.Secrets, Timeout = timeout, MemoryBytes = memory, Network = network, Sdk = _sdkHost };
    }

    /// <summary>
    /// The bb SDK runtime bound into every job: the one published next to this executable (installed:
    /// /usr/lib/boxbot/sandbox-runtime, root's and replaced by upgrades). Never a copy in the sandbox's own state folder,
    /// which the runner's (and jobs') user owns. Without it the runner refuses jobs (fail closed) rather than run them
    /// without the SDK they may import.
    /// </summary>
    private static string FindRuntime() => Path.Combine(AppContext.BaseDirectory, "sandbox-runtime");

    public Task StopAcceptingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details)
    {
        details["runner"] = _unavailable is null ? "ready" : "unavailable: " + _unavailable;
        details["running"] = (_runner?.Running ?? 0).ToString(CultureInfo.InvariantCulture);
        details["queued"] = (_runner?.Queued ?? 0).ToString(CultureInfo.InvariantCulture);
        details["warm"] = (_runner?.Warm ?? 0).ToString(CultureInfo.InvariantCulture);
        if (_unavailable is null && _runner is not null)
        {
            details["cgroups"] = _runner.Cgroups;
        }
        _plugins?.AddStatus(details);
    }

    public async ValueTask DisposeAsync()
    {
        if (_devEgress is not null)
        {
            await _devEgress.DisposeAsync();
        }
        if (_plugins is not null)
        {
            await _plugins.DisposeAsync();
        }
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }
}
