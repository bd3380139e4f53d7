using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BoxBot.Linux;
using static BoxBot.Sandbox.Internal.CgroupNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// One job's cgroup (v2) or pair of cgroups (v1 pids and memory): pids.max bounds the job's tasks
/// whatever its uid's other jobs use (RLIMIT_NPROC counts per uid), and the memory limit bounds
/// real memory, tmpfs pages the job writes included. The job's launcher joins by writing "0" into
/// each of <see cref="ProcsFiles"/> while still root; its children inherit. Disposing kills what is
/// still inside and removes the folders.
/// </summary>
internal sealed partial class JobCgroup : IDisposable
{
    private const string V2JobPrefix = "job-";
    private static readonly TimeSpan RemoveTimeout = TimeSpan.FromSeconds(5);

    private readonly bool _v2;
    private readonly string[] _dirs;

    private JobCgroup(bool v2, string[] dirs)
    {
        _v2 = v2;
        _dirs = dirs;
    }

    /// <summary>The job's cgroup folders: v2 one, v1 the pids one and then the memory one.</summary>
    public IReadOnlyList<string> Directories => _dirs;

    /// <summary>The files the launcher writes "0" into (the writing process joins; pids are not meaningful inside its PID namespace).</summary>
    public IReadOnlyList<string> ProcsFiles => [.. _dirs.Select(d => d + "/cgroup.procs")];

    private string PidsDir => _dirs[0];
    private string MemoryDir => _dirs[^1];

    /// <summary>
    /// Makes the job's cgroup(s) with pids.max = <paramref name="maxTasks"/> and a memory limit of
    /// <paramref name="memoryBytes"/> without swap. Throws a <see cref="SandboxException"/> naming the file.
    /// </summary>
    public static JobCgroup Create(CgroupSupport support, string jobId, long memoryBytes, long maxTasks)
    {
        ArgumentNullException.ThrowIfNull(support);
        if (!support.Usable)
        {
            throw new SandboxException("per-job cgroups are not available: " + support.Description);
        }
        if (jobId.Length is 0 or > 64 || !jobId.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || c == '-'))
        {
            throw new SandboxException($"job id '{jobId}' must be 1 to 64 of [0-9a-z-]");
        }
        if (memoryBytes < 1 || maxTasks < 1)
        {
            throw new SandboxException("a job cgroup needs a memory limit and a task limit of at least 1");
        }
        var v2 = support.Mode == CgroupMode.V2;
        var created = new List<string>();
        try
        {
            foreach (var parent in support.Parents)
            {
                if (!v2)
                {
                    MakeDirectory(parent, existingIsFine: true);
                }
                var dir = parent + "/" + (v2 ? V2JobPrefix : "") + jobId;
                MakeDirectory(dir, existingIsFine: false);
                created.Add(dir);
            }
            var cgroup = new JobCgroup(v2, [.. created]);
            var memory = memoryBytes.ToString(CultureInfo.InvariantCulture);
            WriteValue(cgroup.PidsDir + "/pids.max", maxTasks.ToString(CultureInfo.InvariantCulture));
            if (v2)
            {
                WriteValue(cgroup.MemoryDir + "/memory.max", memory);
                WriteIfPresent(cgroup.MemoryDir + "/memory.swap.max", "0");
                // An OOM kill takes every process of the job, so no job runs on with a part of it missing.
                WriteIfPresent(cgroup.MemoryDir + "/memory.oom.group", "1");
            }
            else
            {
                // In this order: memsw (memory + swap) may never be below the memory limit.
                WriteValue(cgroup.MemoryDir + "/memory.limit_in_bytes", memory);
                WriteIfPresent(cgroup.MemoryDir + "/memory.memsw.limit_in_bytes", memory);
            }
            return cgroup;
        }
        catch
        {
            foreach (var dir in created)
            {
                try
                {
                    RemoveTree(dir, v2);
                }
                catch (IOException)
                {
                    // The first failure is the one to report; RemoveStale gets this folder later.
                }
            }
            throw;
        }
    }

    /// <summary>
    /// For the launcher, as root and before pivot_root: moves the calling process (all its threads)
    /// into each of <paramref name="procsFiles"/> by writing "0", the writer itself; its children
    /// inherit. Throws a <see cref="SandboxException"/> naming the file.
    /// </summary>
    public static void Join(IEnumerable<string> procsFiles)
    {
        ArgumentNullException.ThrowIfNull(procsFiles);
        foreach (var file in procsFiles)
        {
            if (!file.StartsWith('/') || !file.EndsWith("/cgroup.procs", StringComparison.Ordinal))
            {
                throw new SandboxException($"'{file}' is not a cgroup.procs file");
            }
            WriteValue(file, "0");
        }
    }

    /// <summary>True when the kernel's OOM killer killed a process of the job (v2 memory.events, v1 memory.oom_control: oom_kill).</summary>
    public bool OomKilled() => Count(ReadOrEmpty(MemoryDir + (_v2 ? "/memory.events" : "/memory.oom_control")), "oom_kill") > 0;

    /// <summary>True when a fork or thread creation of the job failed at pids.max (pids.events: max).</summary>
    public bool PidsMaxHit() => Count(ReadOrEmpty(PidsDir + "/pids.events"), "max") > 0;

    /// <summary>
    /// Kills whatever is still inside and removes the folder(s). Does nothing for folders already
    /// gone; throws an <see cref="IOException"/> when one stays busy (it is left for <see cref="RemoveStale"/>).
    /// </summary>
    public void Dispose()
    {
        var failures = new List<string>();
        foreach (var dir in _dirs)
        {
            try
            {
                RemoveTree(dir, _v2);
            }
            catch (IOException e)
            {
                failures.Add(e.Message);
            }
        }
        if (failures.Count > 0)
        {
            throw new IOException(string.Join("; ", failures));
        }
    }

    /// <summary>
    /// Kills and removes job cgroups a previous runner left behind; returns how many jobs they were.
    /// Only before this runner's first job: afterwards every job cgroup may be a running job's.
    /// </summary>
    public static int RemoveStale(CgroupSupport support)
    {
        ArgumentNullException.ThrowIfNull(support);
        var v2 = support.Mode == CgroupMode.V2;
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parent in support.Parents)
        {
            foreach (var dir in SubDirectories(parent))
            {
                var name = Path.GetFileName(dir);
                if (!v2 || name.StartsWith(V2JobPrefix, StringComparison.Ordinal))
                {
                    RemoveTree(dir, v2);
                    jobs.Add(name);
                }
            }
        }
        return jobs.Count;
    }

    /// <summary>
    /// v1: removes this runner's own group folders (made by Detect) once its jobs' cgroups are gone, so a
    /// runner leaves nothing behind in the host's hierarchies. v2: nothing (the parent is the runner's own cgroup).
    /// A group still holding a job cgroup stays (rmdir refuses), for the next runner's <see cref="RemoveStale"/>.
    /// </summary>
    public static void RemoveGroups(CgroupSupport support)
    {
        ArgumentNullException.ThrowIfNull(support);
        if (support.Mode != CgroupMode.V1)
        {
            return;
        }
        foreach (var parent in support.Parents)
        {
            _ = rmdir(parent);
        }
    }

    /// <summary>
    /// Kills every process in <paramref name="dir"/> and its child cgroups and removes them, waiting
    /// at most <see cref="RemoveTimeout"/> for the dying to leave. A missing folder is success.
    /// </summary>
    private static void RemoveTree(string dir, bool v2)
    {
        foreach (var child in SubDirectories(dir))
        {
            RemoveTree(child, v2);
        }
        var deadline = DateTime.UtcNow + RemoveTimeout;
        while (true)
        {
            Kill(dir, v2);
            if (rmdir(dir) == 0)
            {
                return;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                return;
            }
            if (errno is not (EBUSY or ENOTEMPTY))
            {
                throw new IOException($"rmdir {dir}: {Errno.Describe(errno)}; the cgroup was left in place");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new IOException($"cgroup {dir} still has processes after {RemoveTimeout.TotalSeconds} s; it was left in place");
            }
            Thread.Sleep(10);
        }
    }

    private static void Kill(string dir, bool v2)
    {
        // cgroup.kill (v2, Linux 5.14+) kills atomically, forks in flight included.
        if (v2 && File.Exists(dir + "/cgroup.kill") && TryWriteValue(dir + "/cgroup.kill", "1"))
        {
            return;
        }
        var procs = dir + "/cgroup.procs";
        // A pid read from cgroup.procs may be reused by an unrelated process before the kill: take a
        // pidfd first (it names one process, never its successor), then signal only those still listed.
        var handles = new List<(int Pid, int Fd)>();
        try
        {
            foreach (var pid in ParsePids(ReadOrEmpty(procs)))
            {
                if (PidfdOpen(pid) is var fd and >= 0)
                {
                    handles.Add((pid, fd));
                }
            }
            var still = ParsePids(ReadOrEmpty(procs)).ToHashSet();
            foreach (var (pid, fd) in handles)
            {
                if (still.Contains(pid))
                {
                    PidfdKill(fd);
                }
            }
        }
        finally
        {
            foreach (var (_, fd) in handles)
            {
                _ = close(fd);
            }
        }
    }

    /// <summary>The value of <paramref name="key"/> in a "key value" per line file (memory.events, pids.events, memory.oom_control); 0 when absent.</summary>
    internal static long Count(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        return 0;
    }

    internal static IEnumerable<int> ParsePids(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    private static string[] SubDirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static void MakeDirectory(string path, bool existingIsFine)
    {
        if (mkdir(path, 0b111_101_101) != 0 && !(existingIsFine && Marshal.GetLastPInvokeError() == EEXIST))
        {
            throw new SandboxException($"mkdir {path}: {LastError()}");
        }
    }

    private static void WriteIfPresent(string path, string value)
    {
        if (File.Exists(path))
        {
            WriteValue(path, value);
        }
    }

    /// <summary>One write(2) of the whole value, as cgroup files expect; throws naming the file and the errno.</summary>
    private static void WriteValue(string path, string value)
    {
        if (!TryWriteValue(path, value))
        {
            throw new SandboxException($"writing '{value}' to {path}: {LastError()}");
        }
    }

    private static unsafe bool TryWriteValue(string path, string value)
    {
        var fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
        {
            return false;
        }
        var bytes = Encoding.ASCII.GetBytes(value);
        nint written;
        fixed (byte* b = bytes)
        {
            written = write(fd, b, bytes.Length);
        }
        var errno = Marshal.GetLastPInvokeError();
        _ = close(fd);
        Marshal.SetLastPInvokeError(errno);
        return written == bytes.Length;
    }
}
