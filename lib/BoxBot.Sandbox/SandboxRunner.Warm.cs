using System.Text.Json;
using BoxBot.Sandbox.Internal;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox;

/// <summary>
/// Warm jobs: up to <see cref="SandboxRunnerOptions.WarmJobs"/> jobs started ahead of demand and confined
/// exactly like any other (namespaces, private root, job user, rlimits at the configured maxima, seccomp,
/// execveat), their bootstrap blocked reading stdin before any script exists. A job that arrives takes
/// one, and the runner writes its script into the workspace and its go message (secrets, its own memory
/// limit, SDK or not) to that stdin; the wall clock starts then. Each warm job serves exactly one job
/// and is never reused; another is started in its place.
/// </summary>
public sealed partial class SandboxRunner
{
    /// <summary>After a warm job fails to start, the pool rests this long (jobs start cold meanwhile).</summary>
    private static readonly TimeSpan WarmPause = TimeSpan.FromSeconds(30);

    /// <summary>How long a job that took a warm job waits for that job's handshake (normally long done).</summary>
    private static readonly TimeSpan WarmReadyTimeout = TimeSpan.FromSeconds(10);

    private readonly Queue<StartedJob> _warm = new();
    private readonly HashSet<Task> _background = [];
    private int _warming;
    private long _warmPausedUntil;

    /// <summary>Warm jobs ready now (for status).</summary>
    public int Warm
    {
        get
        {
            lock (_gate)
            {
                return _warm.Count;
            }
        }
    }

    private bool WarmEnabled => _options.WarmJobs > 0 && _options.SdkRuntimePath is not null;

    private StartedJob? TakeWarm()
    {
        StartedJob? job = null;
        lock (_gate)
        {
            _warm.TryDequeue(out job);
        }
        FillWarm();
        return job;
    }

    /// <summary>Starts warm jobs in the background until there are <see cref="SandboxRunnerOptions.WarmJobs"/>.</summary>
    private void FillWarm()
    {
        if (!WarmEnabled || _jobUser is null)
        {
            return;
        }
        int missing;
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0 || Environment.TickCount64 < _warmPausedUntil)
            {
                return;
            }
            missing = _options.WarmJobs - _warm.Count - _warming;
            if (missing <= 0)
            {
                return;
            }
            _warming += missing;
        }
        for (var i = 0; i < missing; i++)
        {
            Track(Task.Run(PrepareWarm));
        }
    }

    private async Task PrepareWarm()
    {
        StartedJob? job = null;
        try
        {
            // Every warm job gets a channel; one whose job has no SDK host closes it at go.
            job = StartJob(null, new Dictionary<string, string>(), _options.Limits, sdkChannel: true, sdkHost: null, JobNetwork.None, warm: true, _disposing.Token);
        }
        catch (Exception e) when (e is SandboxException or IOException or UnauthorizedAccessException)
        {
            PauseWarm("could not start a warm job: " + e.Message);
        }
        bool keep;
        lock (_gate)
        {
            _warming--;
            keep = job is not null && Volatile.Read(ref _disposed) == 0;
            if (keep)
            {
                _warm.Enqueue(job!);
            }
        }
        if (!keep && job is not null)
        {
            await DiscardAsync(job);
        }
    }

    /// <summary>
    /// Gives a warm job its job: script, SDK host, go message. False (and the warm job is discarded) if it can
    /// no longer take one: it ended, or the venv changed since it started. The script has not run then.
    /// </summary>
    private async Task<bool> GoAsync(StartedJob job, JobRequest request, SandboxLimits limits)
    {
        if (job.Process.HasExited || job.VenvStamp != VenvStamp())
        {
            await DiscardAsync(job);
            return false;
        }
        var (uid, gid) = _jobUser!.Value;
        try
        {
            // The launcher may still be building the job: its workspace is the runner's once the handshake is done.
            if (!await job.Sdk.WaitReadyAsync(WarmReadyTimeout) || job.Sdk.WorkspacePath is not { } workspace)
            {
                throw new IOException("the warm job never handed over its workspace");
            }
            JobDirectory.WriteScript(workspace, request.Script, uid, gid, chown: !_userNamespace);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(SandboxLogEvents.WarmJobFailed, "warm job {JobId}: writing the script: {Message}", job.JobId, e.Message);
            await DiscardAsync(job);
            return false;
        }
        // Without a host the channel closes its end unserved (and the bootstrap closes the job's).
        job.Sdk.Attach(request.Sdk);
        job.HasSdk = request.Sdk is not null;
        var go = new GoMessage
        {
            Environment = SecretEnvironment(request),
            Sdk = request.Sdk is not null,
            AddressSpaceBytes = limits.MemoryBytes,
        };
        if (await job.Process.GoAsync(JsonSerializer.SerializeToUtf8Bytes(go, JobSpecJsonContext.Default.GoMessage)))
        {
            return true;
        }
        await DiscardAsync(job);
        return false;
    }

    /// <summary>Ends a warm job that will not run a job, logs why if it had failed on its own, and cleans up.</summary>
    private async Task DiscardAsync(StartedJob job)
    {
        var exited = job.Process.HasExited;
        var outcome = await job.Process.AbandonAsync();
        if (exited && outcome.ExitCode == JobLauncher.SetupFailedExitCode)
        {
            PauseWarm($"warm job {job.JobId} failed: " + System.Text.Encoding.UTF8.GetString(outcome.Stderr).Trim());
        }
        else if (exited)
        {
            _logger.LogWarning(SandboxLogEvents.WarmJobFailed, "warm job {JobId} ended before its job arrived (exit {ExitCode})", job.JobId, outcome.ExitCode);
        }
        Release(job);
    }

    private void PauseWarm(string reason)
    {
        lock (_gate)
        {
            _warmPausedUntil = Environment.TickCount64 + (long)WarmPause.TotalMilliseconds;
        }
        _logger.LogError(SandboxLogEvents.WarmJobFailed, "{Reason}; jobs start cold for {Seconds} s", reason, WarmPause.TotalSeconds);
    }

    /// <summary>Whether the venv exists and when its site-packages last changed: a warm job made before an install is not used after it.</summary>
    private string VenvStamp()
    {
        if (_options.VenvPath is not { } venv || !Directory.Exists(venv))
        {
            return "";
        }
        var lib = Path.Combine(venv, "lib");
        var site = Directory.Exists(lib) ? Directory.GetDirectories(lib, "python*").Select(d => Path.Combine(d, "site-packages")).FirstOrDefault(Directory.Exists) : null;
        return Directory.GetLastWriteTimeUtc(site ?? venv).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
