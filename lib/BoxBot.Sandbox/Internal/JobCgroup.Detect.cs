using BoxBot.Linux;
using static BoxBot.Sandbox.Internal.CgroupNative;

namespace BoxBot.Sandbox.Internal;

internal enum CgroupMode
{
    None,
    V1,
    V2,
}

/// <summary>
/// What <see cref="JobCgroup.Detect()"/> found: the mode, one line for the daemon's status and log
/// (where job cgroups go, or why there are none), and the folders job cgroups are made in
/// (v2: the delegated cgroup; v1: one per hierarchy, pids first).
/// </summary>
internal sealed record CgroupSupport(CgroupMode Mode, string Description, IReadOnlyList<string> Parents)
{
    public bool Usable => Mode != CgroupMode.None;

    public static CgroupSupport None(string reason) => new(CgroupMode.None, reason, []);
}

/// <summary>Finding out whether and how this process can make job cgroups.</summary>
internal sealed partial class JobCgroup
{
    public const string DefaultRoot = "/sys/fs/cgroup";
    public const string DefaultJobsGroup = "boxbot-jobs";
    private const string RunnerLeaf = "runner";

    /// <summary>Which kind of job cgroups this process can make, if any (see the overload); for the runner's validation, status and log.</summary>
    public static CgroupSupport Detect() => Detect(DefaultRoot, "/proc/self/cgroup", DefaultJobsGroup);

    /// <summary>
    /// v2 (<paramref name="root"/> is cgroup2): the process's own cgroup must offer memory and pids
    /// and be writable; because a cgroup with controllers enabled for its children may hold no
    /// processes, the runner moves itself into <c>own/runner</c> and job cgroups are
    /// <c>own/job-&lt;id&gt;</c>. Calling again finds itself in <c>runner</c> and changes nothing.
    /// v1: the pids and memory hierarchies are mounted under <paramref name="root"/> and the
    /// process's own cgroup in each is writable; job cgroups are <c>own/jobsGroup/&lt;id&gt;</c>.
    /// Never throws: when nothing is usable the result says why.
    /// </summary>
    internal static CgroupSupport Detect(string root, string selfCgroupFile, string jobsGroup)
    {
        string self;
        try
        {
            self = File.ReadAllText(selfCgroupFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CgroupSupport.None($"cannot read {selfCgroupFile}: {e.Message}");
        }
        var magic = FileSystemMagic(root);
        if (magic is null)
        {
            return CgroupSupport.None($"no cgroups: statfs {root}: {LastError()}");
        }
        return magic == CGROUP2_SUPER_MAGIC ? DetectV2(root, self, selfCgroupFile) : DetectV1(root, self, selfCgroupFile, jobsGroup);
    }

    private static CgroupSupport DetectV2(string root, string self, string selfCgroupFile)
    {
        if (OwnCgroup(self, null) is not { } own)
        {
            return CgroupSupport.None($"cgroup v2: {selfCgroupFile} has no 0:: line");
        }
        var baseGroup = V2Base(own);
        if (baseGroup == "/")
        {
            return CgroupSupport.None("cgroup v2: the process is in the root cgroup; give it a delegated subtree (systemd Delegate=yes)");
        }
        var dir = root + baseGroup;
        var missing = Missing(ParseControllers(ReadOrEmpty(dir + "/cgroup.controllers")), "memory", "pids");
        if (missing.Length > 0)
        {
            return CgroupSupport.None($"cgroup v2: {dir} does not offer {string.Join(" and ", missing)} "
                + "(systemd Delegate=yes; on a Raspberry Pi the memory controller also needs cgroup_enable=memory on the kernel command line)");
        }
        foreach (var path in (string[])[dir, dir + "/cgroup.procs", dir + "/cgroup.subtree_control"])
        {
            if (NotWritable(path) is { } why)
            {
                return CgroupSupport.None("cgroup v2: " + why);
            }
        }
        var leaf = dir + "/" + RunnerLeaf;
        try
        {
            if (own != baseGroup + "/" + RunnerLeaf)
            {
                MakeDirectory(leaf, existingIsFine: true);
                WriteValue(leaf + "/cgroup.procs", "0");
            }
            if (Missing(ParseControllers(ReadOrEmpty(dir + "/cgroup.subtree_control")), "memory", "pids").Length > 0)
            {
                // EBUSY here: some other process is still in the delegated cgroup itself.
                WriteValue(dir + "/cgroup.subtree_control", "+memory +pids");
            }
        }
        catch (SandboxException e)
        {
            return CgroupSupport.None("cgroup v2: " + e.Message);
        }
        return new(CgroupMode.V2, $"cgroup v2: jobs in {dir}/{V2JobPrefix}<id>, the runner in {leaf}", [dir]);
    }

    private static CgroupSupport DetectV1(string root, string self, string selfCgroupFile, string jobsGroup)
    {
        var parents = new List<string>();
        foreach (var controller in (string[])["pids", "memory"])
        {
            var mount = root + "/" + controller;
            if (FileSystemMagic(mount) != CGROUP_SUPER_MAGIC)
            {
                return CgroupSupport.None($"cgroup v1: no {controller} hierarchy at {mount}, and {root} is not cgroup2");
            }
            if (OwnCgroup(self, controller) is not { } own)
            {
                return CgroupSupport.None($"cgroup v1: {selfCgroupFile} names no {controller} cgroup");
            }
            var dir = own == "/" ? mount : mount + own;
            if (!Directory.Exists(dir))
            {
                return CgroupSupport.None($"cgroup v1: this process's {controller} cgroup {dir} is not visible here");
            }
            var parent = dir + "/" + jobsGroup;
            if (NotWritable(Directory.Exists(parent) ? parent : dir) is { } why)
            {
                return CgroupSupport.None("cgroup v1: " + why);
            }
            parents.Add(parent);
        }
        return new(CgroupMode.V1, $"cgroup v1: jobs in {parents[0]}/<id> and {parents[1]}/<id>", parents);
    }

    /// <summary>The cgroup path of this process for a v1 <paramref name="controller"/>, or its v2 path ("0::") for null.</summary>
    internal static string? OwnCgroup(string procSelfCgroup, string? controller)
    {
        foreach (var line in procSelfCgroup.Split('\n'))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3 || !parts[2].StartsWith('/'))
            {
                continue;
            }
            var matches = controller is null
                ? parts[0] == "0" && parts[1].Length == 0
                : parts[1].Split(',').Contains(controller, StringComparer.Ordinal);
            if (matches)
            {
                return parts[2];
            }
        }
        return null;
    }

    /// <summary>The delegated cgroup of a v2 runner: its own, or the parent of the <c>runner</c> leaf it moved itself into.</summary>
    internal static string V2Base(string own)
    {
        var suffix = "/" + RunnerLeaf;
        if (own.EndsWith(suffix, StringComparison.Ordinal))
        {
            var parent = own[..^suffix.Length];
            return parent.Length == 0 ? "/" : parent;
        }
        return own;
    }

    /// <summary>cgroup.controllers and cgroup.subtree_control: names separated by spaces.</summary>
    internal static IReadOnlySet<string> ParseControllers(string text) =>
        text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static string[] Missing(IReadOnlySet<string> have, params string[] wanted) => [.. wanted.Where(w => !have.Contains(w))];

    private static string? NotWritable(string path) =>
        faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 ? null : $"{path} is not writable by uid {LinuxProcess.EffectiveUid}: {LastError()}";
}
