using System.Text;
using BoxBot.Contracts;
using BoxBot.Sandbox.Internal;

namespace BoxBot.Sandbox;

public sealed partial class SandboxRunner
{
    /// <summary>The interpreter's descriptor number: above every allowed RLIMIT_NOFILE, so a job can never make one.</summary>
    private const int ExecFd = 100;
    private const int MaxScriptBytes = 256 * 1024;
    private const string WorkspaceInJob = "/workspace";

    // The interpreter's own files: merged-/usr systems have /lib* as links into /usr, which are recreated as links.
    private static readonly string[] SystemPaths = ["/usr", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache"];

    private SandboxLimits Check(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Script);
        if (Encoding.UTF8.GetByteCount(request.Script) > MaxScriptBytes)
        {
            throw new SandboxException($"the script is larger than {MaxScriptBytes / 1024} KiB");
        }
        if (request.Secrets.Count > SecretRules.MaxSecrets)
        {
            throw new SandboxException($"a job may name at most {SecretRules.MaxSecrets} secrets");
        }
        foreach (var (name, value) in request.Secrets)
        {
            if (!SecretRules.IsValidName(name))
            {
                throw new SandboxException($"secret name '{name}' must match ^[A-Z][A-Z0-9_]{{0,63}}$");
            }
            if (!SecretRules.IsValidValue(value))
            {
                throw new SandboxException($"secret {name}: the value must be 1 byte to {SecretRules.MaxValueBytes / 1024} KiB without NUL characters");
            }
        }
        var max = _options.Limits;
        if (request.Timeout is { } t && (t <= TimeSpan.Zero || t > max.Wall))
        {
            throw new SandboxException($"timeout {t.TotalSeconds} s is outside 0..{max.Wall.TotalSeconds} s (the configured maximum)");
        }
        if (request.MemoryBytes is { } m && (m <= 0 || m > max.MemoryBytes))
        {
            throw new SandboxException($"memory {m} bytes is outside 1..{max.MemoryBytes} bytes (the configured maximum)");
        }
        return max with { Wall = request.Timeout ?? max.Wall, MemoryBytes = request.MemoryBytes ?? max.MemoryBytes };
    }

    private JobSpec BuildSpec(string jobId, JobDirectory dir, JobRequest request, SandboxLimits limits, uint uid, uint gid)
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
        foreach (var (name, value) in request.Secrets)
        {
            env["BOXBOT_SECRET_" + name] = value;
        }
        var binds = SystemPaths.Where(p => BoxBot.Linux.LinuxFile.LStat(p) is not null).ToList();
        var pythonDir = Path.GetDirectoryName(_options.Python)!;
        if (!binds.Any(b => pythonDir == b || pythonDir.StartsWith(b + "/", StringComparison.Ordinal)))
        {
            binds.Add(pythonDir);
        }
        binds.AddRange(_options.ExtraReadOnlyPaths);
        return new JobSpec
        {
            JobId = jobId,
            WorkspaceHost = dir.Workspace,
            RootHost = dir.Root,
            WorkspaceInJob = WorkspaceInJob,
            Interpreter = _options.Python,
            // -u: -I ignores PYTHONUNBUFFERED, and output written before a kill must not be lost in a buffer.
            Argv = ["python3", "-I", "-B", "-u", WorkspaceInJob + "/main.py"],
            Environment = env,
            ReadOnlyBinds = binds,
            Uid = uid,
            Gid = gid,
            CpuSeconds = Math.Max(1, (long)Math.Ceiling(limits.Cpu.TotalSeconds)),
            AddressSpaceBytes = limits.MemoryBytes,
            MaxTasks = limits.MaxTasks,
            MaxOpenFiles = limits.MaxOpenFiles,
            MaxFileBytes = limits.WorkspaceBytes,
            ExecFd = ExecFd,
        };
    }
}
