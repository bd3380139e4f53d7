using System.Text;
using BoxBot.Contracts;
using BoxBot.Sandbox.Internal;
using BoxBot.Sandbox.Plugins;

namespace BoxBot.Sandbox;

public sealed partial class SandboxRunner
{
    /// <summary>The interpreter's descriptor number: above every allowed RLIMIT_NOFILE, so a job can never make one.</summary>
    private const int ExecFd = 100;
    private const int MaxScriptBytes = SandboxRunRequest.MaxScriptBytes;
    private const string WorkspaceInJob = "/workspace";
    private const string RuntimeInJob = "/opt/boxbot/runtime";
    private const string VenvInJob = "/opt/boxbot/venv";
    private const int SdkFd = 3;

    /// <summary>How long the SDK session may still run after the job's process exited (it normally ends at once, on EOF).</summary>
    private static readonly TimeSpan SdkGrace = TimeSpan.FromSeconds(2);

    // The interpreter's own files: merged-/usr systems have /lib* as links into /usr, which are recreated as links.
    private static readonly string[] SystemPaths = ["/usr", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache"];

    // Network "internet" only: the CA certificates for TLS (/etc/ssl/certs, links into /usr/share/ca-certificates), and
    // the files that name localhost, services and protocols. No resolver configuration: the job resolves nothing, the
    // egress proxy does.
    private static readonly string[] NetworkPaths = ["/etc/hosts", "/etc/services", "/etc/protocols", "/etc/ssl"];

    /// <summary>Where a network "internet" job's proxy listens in its own network namespace (HTTP_PROXY and HTTPS_PROXY name it).</summary>
    public const int ProxyPort = 3128;

    private SandboxLimits Check(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Script);
        if (request.Channel is not null && request.Sdk is not null)
        {
            throw new SandboxException("a job's socket is served either by an SDK host or by a channel, not both");
        }
        if (request.Plugin is { } plugin)
        {
            plugin.Validate();
            if (_options.SdkRuntimePath is null)
            {
                throw new SandboxException("plugin processes need the SDK runtime (its device_connect_edge package runs them)");
            }
        }
        if (Encoding.UTF8.GetByteCount(request.Script) > MaxScriptBytes)
        {
            throw new SandboxRequestException($"the script is larger than {MaxScriptBytes / 1024} KiB");
        }
        if (request.Network == JobNetwork.Internet && _options.EgressSocket is null)
        {
            throw new SandboxException("network = internet needs the egress proxy, and this sandbox has none configured");
        }
        if (request.Secrets.Count > SecretRules.MaxSecrets)
        {
            throw new SandboxRequestException($"a job may name at most {SecretRules.MaxSecrets} secrets");
        }
        foreach (var (name, value) in request.Secrets)
        {
            if (!SecretRules.IsValidName(name))
            {
                throw new SandboxRequestException($"secret name '{name}' must match ^[A-Z][A-Z0-9_]{{0,63}}$");
            }
            if (!SecretRules.IsValidValue(value))
            {
                throw new SandboxRequestException($"secret {name}: the value must be 1 byte to {SecretRules.MaxValueBytes / 1024} KiB without NUL characters");
            }
        }
        var max = _options.Limits;
        if (request.Timeout is { } t && (t <= TimeSpan.Zero || (max.Wall != Timeout.InfiniteTimeSpan && t > max.Wall)))
        {
            throw new SandboxRequestException($"timeout {t.TotalSeconds} s is outside 0..{max.Wall.TotalSeconds} s (the configured maximum)");
        }
        if (request.MemoryBytes is { } m && (m <= 0 || m > max.MemoryBytes))
        {
            throw new SandboxRequestException($"memory {m} bytes is outside 1..{max.MemoryBytes} bytes (the configured maximum)");
        }
        return max with { Wall = request.Timeout ?? max.Wall, MemoryBytes = request.MemoryBytes ?? max.MemoryBytes };
    }

    private void ValidateSdk()
    {
        if (_options.SdkRuntimePath is { } runtime)
        {
            if (!Path.IsPathRooted(runtime) || !Directory.Exists(runtime)
                || !File.Exists(Path.Combine(runtime, "bootstrap.py")) || !File.Exists(Path.Combine(runtime, "bb", "__init__.py")))
            {
                throw new SandboxException($"SDK runtime {runtime} must be an absolute path to a folder holding bootstrap.py and bb/__init__.py "
                    + "(lib/BoxBot.Sandbox/python, published as sandbox-runtime/)");
            }
        }
        // <JobsDir>/<16 hex>/sdk.sock must fit in sun_path.
        var socketPath = Path.Combine(_options.JobsDir, new string('0', 16), SdkChannel.SocketName);
        if (Encoding.UTF8.GetByteCount(socketPath) > SdkChannel.MaxSocketPathBytes)
        {
            throw new SandboxException($"JobsDir {_options.JobsDir} is too long: a job's SDK socket path must fit in {SdkChannel.MaxSocketPathBytes} bytes");
        }
    }

    /// <summary>The job's environment additions: exactly the secrets it named.</summary>
    private static Dictionary<string, string> SecretEnvironment(JobRequest request) =>
        request.Secrets.ToDictionary(kv => "BOXBOT_SECRET_" + kv.Key, kv => kv.Value);

    /// <summary>
    /// The launcher's spec. A warm one (<paramref name="warm"/>) carries no secrets and the configured maximum
    /// limits; its bootstrap waits on stdin for the <see cref="GoMessage"/> that brings the job's own.
    /// </summary>
    private JobSpec BuildSpec(string jobId, JobDirectory dir, string? script, IReadOnlyDictionary<string, string> secretEnv, SandboxLimits limits,
        uint uid, uint gid, string sdkSocket, bool sdkToJob, JobCgroup? cgroup, bool warm, JobNetwork network, JobPlugin? plugin)
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
            ["HOME"] = WorkspaceInJob,
            ["TMPDIR"] = WorkspaceInJob,
            ["PYTHONDONTWRITEBYTECODE"] = "1",
            ["PYTHONUNBUFFERED"] = "1",
        };
        foreach (var (name, value) in secretEnv)
        {
            env[name] = value;
        }
        if (plugin is not null)
        {
            foreach (var (name, value) in plugin.Environment())
            {
                env[name] = value;
            }
        }
        var runtime = _options.SdkRuntimePath is { } r ? Path.GetFullPath(r) : null;
        if (runtime is not null)
        {
            env["BOXBOT_WORKSPACE"] = WorkspaceInJob;
        }
        // The venv appears once the agent made it (the first approved install); until then jobs have the stdlib and bb.
        var venv = _options.VenvPath is { } v && Directory.Exists(v) ? Path.GetFullPath(v) : null;
        if (venv is not null && runtime is not null)
        {
            env["BOXBOT_VENV"] = VenvInJob;
        }
        if (network == JobNetwork.Internet)
        {
            var proxy = "http://127.0.0.1:" + ProxyPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var name in (string[])["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"])
            {
                env[name] = proxy;
            }
        }
        if (sdkToJob)
        {
            env["BOXBOT_SDK_FD"] = SdkFd.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var binds = SystemPaths.Where(p => BoxBot.Linux.LinuxFile.LStat(p) is not null).ToList();
        var pythonDir = Path.GetDirectoryName(_options.Python)!;
        if (!binds.Any(b => pythonDir == b || pythonDir.StartsWith(b + "/", StringComparison.Ordinal)))
        {
            binds.Add(pythonDir);
        }
        if (network == JobNetwork.Internet)
        {
            binds.AddRange(NetworkPaths.Where(p => BoxBot.Linux.LinuxFile.LStat(p) is not null));
        }
        binds.AddRange(_options.ExtraReadOnlyPaths);
        return new JobSpec
        {
            JobId = jobId,
            WorkspaceHost = dir.Workspace,
            WorkspaceBytes = limits.WorkspaceBytes,
            Script = script,
            UserNamespace = _userNamespace,
            ProxyPort = network == JobNetwork.Internet ? ProxyPort : 0,
            RootHost = dir.Root,
            WorkspaceInJob = WorkspaceInJob,
            Interpreter = _options.Python,
            // -u: -I ignores PYTHONUNBUFFERED, and output written before a kill must not be lost in a buffer.
            // With the SDK runtime, its bootstrap puts only the runtime folder on sys.path and runs the script as __main__.
            Argv = runtime is null
                ? ["python3", "-I", "-B", "-u", WorkspaceInJob + "/main.py"]
                : warm
                ? ["python3", "-I", "-B", "-u", RuntimeInJob + "/bootstrap.py", "--wait", WorkspaceInJob + "/main.py"]
                : ["python3", "-I", "-B", "-u", RuntimeInJob + "/bootstrap.py", WorkspaceInJob + "/main.py"],
            Environment = env,
            ReadOnlyBinds = binds,
            Uid = uid,
            Gid = gid,
            CpuSeconds = Math.Max(1, (long)Math.Ceiling(limits.Cpu.TotalSeconds)),
            AddressSpaceBytes = limits.MemoryBytes,
            // RLIMIT_NPROC counts the tasks of the job's uid in its user namespace: in one of its own (an unprivileged
            // runner) that is this job alone. As root every job shares the job user's count: with a per-job cgroup its
            // pids.max is the job's own limit and this only a backstop for all jobs at once; without one it is the limit, shared.
            MaxTasks = cgroup is null || _userNamespace ? limits.MaxTasks : limits.MaxTasks * (_options.MaxConcurrentJobs + _options.WarmJobs),
            CgroupProcs = cgroup?.ProcsFiles ?? [],
            MaxOpenFiles = limits.MaxOpenFiles,
            MaxFileBytes = limits.WorkspaceBytes,
            ExecFd = ExecFd,
            SdkSocket = sdkSocket,
            SdkToJob = sdkToJob,
            SdkFd = SdkFd,
            RuntimeHost = runtime,
            RuntimeInJob = RuntimeInJob,
            VenvHost = venv,
            VenvInJob = VenvInJob,
            WaitForGo = warm,
            PluginCodeHost = plugin is null ? null : Path.GetFullPath(plugin.CodeHost),
            PluginCodeInJob = JobPlugin.CodeInJob,
            PluginDataHost = plugin?.DataHost is { } data ? Path.GetFullPath(data) : null,
            PluginDataInJob = JobPlugin.DataInJob,
        };
    }
}
