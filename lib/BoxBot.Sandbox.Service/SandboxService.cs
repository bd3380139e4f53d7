using System.Globalization;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// Serves <c>sandbox.run</c>. Only the agent's uid (and root) may call it: the agent has already
/// checked who asked and resolved the secrets. When the runner cannot confine jobs on this host
/// (not root, job user missing, no interpreter), the daemon still answers status, and every job is
/// refused with the reason: nothing ever runs unconfined.
/// </summary>
public sealed class SandboxService : IDaemonService
{
    private const long MiB = 1024 * 1024;
    private SandboxRunner? _runner;
    private string? _unavailable;
    private SandboxLimits _limits = SandboxLimits.Default;
    private AgentSdkHost? _sdkHost;
    private DevEgress? _devEgress;

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
            SdkRuntimePath = FindRuntime(context),
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

        // Queued jobs wait for running ones; the call may last that long, and no longer.
        var waits = 1 + (s.QueueLength + s.MaxConcurrentJobs - 1) / s.MaxConcurrentJobs;
        context.Server.Map(SandboxMethods.Run, CallerPolicy.Of(Principal.Root, Principal.User(Daemons.Agent.ServiceUser)),
            SandboxJsonContext.Default.SandboxJob, SandboxJsonContext.Default.SandboxRunResult, RunAsync,
            s.Timeout * waits + TimeSpan.FromSeconds(30));
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
            return new SandboxRunResult
            {
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
        catch (SandboxBusyException e)
        {
            throw new RpcException(RpcErrorCodes.Busy, e.Message);
        }
        catch (SandboxException e)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, e.Message);
        }
    }

    /// <summary>The job is untrusted input even from the agent: every field is checked (here, or by the runner) against the configured maxima.</summary>
    private JobRequest ToRequest(SandboxJob job)
    {
        if (job.Script.Length == 0 || job.Script.Length > 256 * 1024)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "script must be 1 to 262144 characters");
        }
        // Secret names, values and count: the runner checks them (SecretRules) before admitting the job;
        // its SandboxException becomes InvalidParams below.
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
                : throw new RpcException(RpcErrorCodes.InvalidParams, $"timeout_s must be between 1 and {_limits.Wall.TotalSeconds:0} ([sandbox] timeout_s)");
        }
        long? memory = null;
        if (job.MemoryMiB is { } mib)
        {
            memory = mib >= 32 && mib * MiB <= _limits.MemoryBytes
                ? mib * MiB
                : throw new RpcException(RpcErrorCodes.InvalidParams, $"memory_mib must be between 32 and {_limits.MemoryBytes / MiB} ([sandbox] memory_mib)");
        }
        return new JobRequest { Script = job.Script, Secrets = job.Secrets, Timeout = timeout, MemoryBytes = memory, Network = network, Sdk = _sdkHost };
    }

    /// <summary>
    /// The bb SDK runtime bound into every job: the installed copy in the sandbox's state folder,
    /// else the one published next to this executable. Without either, the runner refuses jobs
    /// (fail closed) rather than run them without the SDK they may import.
    /// </summary>
    private static string FindRuntime(DaemonContext context)
    {
        var installed = Path.Combine(context.StateDir, "runtime");
        var published = Path.Combine(AppContext.BaseDirectory, "sandbox-runtime");
        return File.Exists(Path.Combine(installed, "bootstrap.py")) ? installed : published;
    }

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
    }

    public async ValueTask DisposeAsync()
    {
        if (_devEgress is not null)
        {
            await _devEgress.DisposeAsync();
        }
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }
}
