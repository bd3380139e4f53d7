using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using BoxBot.Linux;
using BoxBot.Sandbox.Internal;
using BoxBot.Sandbox.Plugins;
using BoxBot.Sandbox.Sdk;
using BoxBot.Sandbox.Seccomp;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox;

/// <summary>
/// Runs jobs, each in a fresh kernel-confined process (see ARCHITECTURE.md, "The sandbox"): at most
/// <see cref="SandboxRunnerOptions.MaxConcurrentJobs"/> at once, a bounded queue behind them. As root, jobs run as
/// <see cref="SandboxRunnerOptions.JobUser"/>; as any other user (the installed unit), jobs run as that user, each
/// built in a user namespace of its own, and the runner needs no capability at all.
/// </summary>
public sealed partial class SandboxRunner : IAsyncDisposable
{
    private readonly SandboxRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _gate = new();
    private readonly Lock _validation = new();
    private bool _staleRemoved;
    private readonly HashSet<Task> _jobs = [];
    private (uint Uid, uint Gid)? _jobUser;
    private bool _userNamespace;
    private CgroupSupport _cgroups = CgroupSupport.None("not checked yet");
    private int _admitted;
    private int _running;
    private int _disposed;

    public SandboxRunner(SandboxRunnerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.MaxConcurrentJobs < 1 || options.QueueLength < 0)
        {
            throw new SandboxException("MaxConcurrentJobs must be at least 1 and QueueLength at least 0");
        }
        _options = options;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxConcurrentJobs, options.MaxConcurrentJobs);
    }

    public int Running => Volatile.Read(ref _running);

    public int Queued => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>Whether jobs get their own cgroup (pids and memory), and where, or why not: for status and the log.</summary>
    public string Cgroups => _cgroups.Usable ? _cgroups.Description : "none (" + _cgroups.Description + ")";

    /// <summary>Checks that jobs can run here (root, the job user, the interpreter, the launcher); throws saying what to do.</summary>
    public void Validate()
    {
        lock (_validation)
        {
            ValidateLocked();
        }
        FillWarm();
    }

    private void ValidateLocked()
    {
        var user = UnixAccounts.LookupUser(_options.JobUser)
            ?? throw new SandboxException($"job user '{_options.JobUser}' does not exist; create it with: "
                + $"useradd --system --no-create-home --shell /usr/sbin/nologin {_options.JobUser}");
        if (user.Uid == 0 || user.Gid == 0)
        {
            throw new SandboxException($"job user '{_options.JobUser}' has uid or gid 0; jobs never run as root");
        }
        var euid = LinuxProcess.EffectiveUid;
        if (euid != 0 && euid != user.Uid)
        {
            throw new SandboxException($"the sandbox runner runs as uid {euid}, which is neither root nor the job user '{_options.JobUser}' (uid {user.Uid}): "
                + "unprivileged, it runs jobs as its own user; start it as that user (the boxbot-sandbox unit does) or as root");
        }
        foreach (var (path, what) in (ReadOnlySpan<(string, string)>)[(_options.Python, "interpreter"), (_options.LauncherPath, "launcher"), ("/usr/bin/unshare", "unshare (util-linux)")])
        {
            if (!File.Exists(path))
            {
                throw new SandboxException($"{what} {path} does not exist");
            }
        }
        if (_options.Limits.MaxOpenFiles is < 1 or >= ExecFd)
        {
            throw new SandboxException($"Limits.MaxOpenFiles must be between 1 and {ExecFd - 1}");
        }
        try
        {
            Directory.CreateDirectory(_options.JobsDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(_options.JobsDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException($"the jobs folder {_options.JobsDir} cannot be made private to uid {euid}: {e.Message}");
        }
        if (!_staleRemoved)
        {
            // v1 job cgroups sit below the runner's own, which other runners may share (dev up and tests
            // as the same root): a group per jobs folder keeps one runner's clean-up off another's jobs.
            var group = JobCgroup.DefaultJobsGroup + "-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(_options.JobsDir))))[..12];
            _cgroups = JobCgroup.Detect(JobCgroup.DefaultRoot, "/proc/self/cgroup", group);
            _logger.LogInformation(SandboxLogEvents.Cgroups, "per-job cgroups: {Cgroups}", Cgroups);
            // Once, before this runner's first job: afterwards every folder in JobsDir (and job cgroup) may be a running job's.
            if (JobDirectory.RemoveStale(_options.JobsDir) + JobCgroup.RemoveStale(_cgroups) is var stale and > 0)
            {
                _logger.LogWarning(SandboxLogEvents.StaleJobsRemoved, "removed {Count} job folders and cgroups left behind in {JobsDir}", stale, _options.JobsDir);
            }
        }
        ValidateSdk();
        if (euid != 0)
        {
            UserNamespaces.Probe();
        }
        _ = SeccompPolicy.Build(ExecFd); // an unsupported architecture fails here, not per job
        _staleRemoved = true;
        _userNamespace = euid != 0;
        // In a user namespace the job keeps the runner's own uid and gid: the only ones it maps.
        _jobUser = euid == 0 ? (user.Uid, user.Gid) : (euid, LinuxProcess.EffectiveGid);
    }

    /// <summary>
    /// Makes <paramref name="path"/> a folder only the job user may use (0700, owned by it): a plugin's data folder, which
    /// its process writes and which outlives it.
    /// </summary>
    public void PrepareDataFolder(string path)
    {
        if (_jobUser is null)
        {
            Validate();
        }
        var (uid, gid) = _jobUser!.Value;
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (LinuxFile.LStat(path) is { IsDirectory: true } stat && (stat.Uid != uid || stat.Gid != gid))
        {
            LinuxFile.ChangeOwner(path, uid, gid);
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public async Task<JobResult> RunAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var limits = Check(request);
        if (_jobUser is null)
        {
            Validate();
        }
        if (Interlocked.Increment(ref _admitted) > _options.MaxConcurrentJobs + _options.QueueLength)
        {
            Interlocked.Decrement(ref _admitted);
            _logger.LogWarning(SandboxLogEvents.JobRefused, "job refused: {Running} running and {Queued} queued", Running, Queued);
            throw new SandboxBusyException($"the sandbox is busy ({_options.MaxConcurrentJobs} jobs running, "
                + $"{_options.QueueLength} waiting); try again later");
        }
        var job = RunAdmittedAsync(request, limits, cancellationToken);
        lock (_gate)
        {
            _jobs.Add(job);
        }
        try
        {
            return await job;
        }
        finally
        {
            lock (_gate)
            {
                _jobs.Remove(job);
            }
        }
    }

    private async Task<JobResult> RunAdmittedAsync(JobRequest request, SandboxLimits limits, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        try
        {
            await _slots.WaitAsync(linked.Token);
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        Interlocked.Increment(ref _running);
        try
        {
            return await RunOneAsync(request, limits, linked.Token);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            Interlocked.Decrement(ref _admitted);
            _slots.Release();
        }
    }

    private async Task<JobResult> RunOneAsync(JobRequest request, SandboxLimits limits, CancellationToken cancellationToken)
    {
        if (request.Network == JobNetwork.None && request.Plugin is null && request.Channel is null)
        {
            while (TakeWarm() is { } warm)
            {
                var clock = Stopwatch.StartNew();
                if (await GoAsync(warm, request, limits))
                {
                    return await FinishAsync(warm, limits, clock, cancellationToken);
                }
            }
        }
        var coldClock = Stopwatch.StartNew();
        var job = await Task.Run(() => StartJob(request.Plugin is null ? request.Script : JobPlugin.Script, SecretEnvironment(request), limits,
            request.Sdk is not null || request.Channel is not null, request.Sdk, request.Network, warm: false, cancellationToken,
            request.Plugin, request.Channel, request.KeepOutputTail), CancellationToken.None);
        return await FinishAsync(job, limits, coldClock, cancellationToken);
    }

    private static string NewJobId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// Starts one job's launcher: folder (with the script, unless a warm job gets it at go), cgroup, SDK channel
    /// (a warm one's without a host yet), spec. A warm job remembers the venv it was started with.
    /// </summary>
    private StartedJob StartJob(string? script, IReadOnlyDictionary<string, string> secretEnv, SandboxLimits limits, bool sdkChannel, ISdkHost? sdkHost,
        JobNetwork network, bool warm, CancellationToken cancellationToken, JobPlugin? plugin = null, Func<Socket, CancellationToken, Task>? channel = null,
        bool keepOutputTail = false)
    {
        var jobId = NewJobId();
        var (uid, gid) = _jobUser!.Value;
        var venvStamp = warm ? VenvStamp() : "";
        var dir = JobDirectory.Create(_options.JobsDir, jobId);
        JobCgroup? cgroup = null;
        SdkChannel? sdk = null;
        try
        {
            cgroup = CreateCgroup(jobId, limits);
            // Every job has the socket (the handshake hands the runner its workspace); a warm job's host comes at go.
            sdk = SdkChannel.Open(dir.Path, dir.Workspace, WorkspaceInJob, _options.EgressSocket, sdkHost, attachNow: !warm,
                _logger, jobId, cancellationToken, channel);
            var spec = BuildSpec(jobId, dir, script, secretEnv, limits, uid, gid, sdk.SocketPath, sdkChannel, cgroup, warm, network, plugin);
            var process = JobProcess.Start(_options.LauncherPath, spec, dir.Path, limits.OutputBytes, keepOutputTail);
            return new StartedJob(jobId, dir, cgroup, sdk, process, warm, venvStamp) { HasSdk = sdkChannel };
        }
        catch
        {
            sdk?.Dispose();
            cgroup?.Dispose();
            dir.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The job's own pids and memory cgroup where this runner can make one (null otherwise). Memory: the
    /// address-space limit plus the workspace, whose tmpfs pages the job's writes are charged for.
    /// </summary>
    private JobCgroup? CreateCgroup(string jobId, SandboxLimits limits) =>
        _cgroups.Usable ? JobCgroup.Create(_cgroups, jobId, limits.MemoryBytes + limits.WorkspaceBytes, limits.MaxTasks) : null;

    /// <summary>Waits for a started job (cold, or warm and given its go) to end and turns what happened into its result.</summary>
    private async Task<JobResult> FinishAsync(StartedJob job, SandboxLimits limits, Stopwatch clock, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await job.Process.WaitAsync(limits.Wall, cancellationToken);
            // Every attachment's bytes were copied during its call.
            await job.Sdk.FinishAsync(SdkGrace);
            var syscall = JobVerdict.SignalOf(outcome.ExitCode) == 31 && outcome.KilledBy == KillReason.None
                ? await KernelLog.FindSeccompSyscallAsync(outcome.HostPid) : null;
            var result = JobVerdict.Decide(job.JobId, outcome, job.Sdk.WorkspaceFreeBytes(), syscall, job.Cgroup?.OomKilled() ?? false,
                job.Cgroup?.PidsMaxHit() ?? false, clock.ElapsedMilliseconds)
                with
            { StartedWarm = job.Warm };
            if (job.HasSdk)
            {
                result = result with { SdkCalls = job.Sdk.Calls, Attachments = job.Sdk.Attachments };
            }
            if (result.Error is not null)
            {
                _logger.LogError(SandboxLogEvents.JobSetupFailed, "job {JobId} could not start: {Error}", job.JobId, result.Error);
            }
            _logger.LogInformation(SandboxLogEvents.JobFinished, "job {JobId} {Status} {KilledBy} exit {ExitCode} in {DurationMs} ms ({Start})",
                job.JobId, result.Status, result.KilledBy, result.ExitCode, result.DurationMs, job.Warm ? "warm" : "cold");
            cancellationToken.ThrowIfCancellationRequested();
            return result;
        }
        finally
        {
            ReleaseLater(job);
        }
    }

    /// <summary>
    /// Cleans up after the caller has its result (unmounting and deleting cost a few milliseconds); disposal
    /// waits for these, and a runner that died first leaves folders that the next one removes as stale.
    /// </summary>
    private void ReleaseLater(StartedJob job) => Track(Task.Run(() => Release(job)));

    /// <summary>Keeps <paramref name="task"/> in <c>_background</c> until it ends, so that disposal waits for it.</summary>
    private void Track(Task task)
    {
        lock (_gate)
        {
            _background.Add(task);
        }
        _ = task.ContinueWith(t =>
        {
            lock (_gate)
            {
                _background.Remove(t);
            }
        }, TaskScheduler.Default);
    }

    private void Release(StartedJob job)
    {
        try
        {
            job.Release();
        }
        catch (IOException e)
        {
            _logger.LogError(SandboxLogEvents.JobCleanupFailed, "job {JobId}: cleaning up: {Message}", job.JobId, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _disposing.CancelAsync();
        // Jobs end (killed), warm ones are discarded, and clean-ups they start are waited for too.
        while (true)
        {
            Task[] pending;
            StartedJob[] warm;
            lock (_gate)
            {
                warm = [.. _warm];
                _warm.Clear();
                pending = [.. _jobs, .. _background];
            }
            if (pending.Length == 0 && warm.Length == 0)
            {
                break;
            }
            try
            {
                await Task.WhenAll([.. pending, .. warm.Select(DiscardAsync)]);
            }
            catch (Exception e) when (e is OperationCanceledException or SandboxException)
            {
                // Their callers see these; disposal only waits for the kills to finish.
            }
            await Task.Yield(); // a finished job leaves _jobs in its caller's continuation
        }
        JobCgroup.RemoveGroups(_cgroups);
        _disposing.Dispose();
    }
}
