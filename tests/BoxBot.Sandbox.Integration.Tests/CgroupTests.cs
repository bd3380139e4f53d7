using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BoxBot.Sandbox.Internal;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// Per-job cgroups on this host's real cgroup v1 pids and memory hierarchies, with real processes
/// that join them the way the launcher will (writing "0" into each cgroup.procs) and then try to
/// get past them. The v2 code runs against the host's controller-less cgroup2 mount where it can,
/// and its parsing against sample text. Every folder made here is removed in the teardown.
/// </summary>
[Category("root")]
public sealed partial class CgroupTests
{
    private const string Python = "/usr/bin/python3";
    private const string Unified = "/sys/fs/cgroup/unified";
    private readonly List<Process> _processes = [];
    private readonly List<string> _foldersToRemove = [];
    private CgroupSupport _support = null!;

    [SetUp]
    public void Detect()
    {
        if (!File.Exists("/sys/fs/cgroup/pids/cgroup.procs") || !File.Exists("/sys/fs/cgroup/memory/cgroup.procs"))
        {
            Assert.Ignore("these tests use the host's cgroup v1 pids and memory hierarchies");
        }
        // A folder of this test's own, so that cleaning up can never touch another runner's jobs.
        _support = JobCgroup.Detect(JobCgroup.DefaultRoot, "/proc/self/cgroup", "boxbot-test-" + RandomHex());
        Assert.That(_support.Mode, Is.EqualTo(CgroupMode.V1), _support.Description);
        _foldersToRemove.AddRange(_support.Parents);
    }

    [TearDown]
    public void CleanUp()
    {
        // NUnit runs every test of a fixture on one instance: take this test's processes and folders only.
        Process[] processes = [.. _processes];
        string[] folders = [.. _foldersToRemove];
        _processes.Clear();
        _foldersToRemove.Clear();
        foreach (var p in processes)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            p.Dispose();
        }
        foreach (var folder in folders)
        {
            var mode = folder.StartsWith(Unified + "/", StringComparison.Ordinal) ? CgroupMode.V2 : CgroupMode.V1;
            JobCgroup.RemoveStale(new CgroupSupport(mode, "cleanup", [folder]));
            Assert.That(CgroupNative.rmdir(folder) == 0 || !Directory.Exists(folder), "rmdir " + folder + ": " + CgroupNative.LastError());
        }
    }

    [Test]
    public async Task Each_job_gets_its_own_task_budget_and_none_gets_more()
    {
        using var first = JobCgroup.Create(_support, RandomHex(), 256L << 20, maxTasks: 20);
        using var second = JobCgroup.Create(_support, RandomHex(), 256L << 20, maxTasks: 20);
        Assert.That(first.PidsMaxHit(), Is.False);
        // As nobody with RLIMIT_NPROC 1000 (root would ignore it): only pids.max can stop it at 20.
        const string threads = """
            import resource, sys, threading
            resource.setrlimit(resource.RLIMIT_NPROC, (1000, 1000))
            threading.stack_size(64 * 1024)
            stop = threading.Event()
            n = 0
            try:
                while n < 200:
                    threading.Thread(target=stop.wait, daemon=True).start()
                    n += 1
            except RuntimeError:
                pass
            print(n, resource.getrlimit(resource.RLIMIT_NPROC)[0], flush=True)
            sys.stdin.read()
            """;
        var a = StartIn(first, threads);
        Assert.That(await ReadLineAsync(a), Is.EqualTo("19 1000"), "the main thread and 19 more make 20 tasks");
        // The first still holds all 20 of its tasks: with one shared budget the second would get none.
        var b = StartIn(second, threads);
        Assert.That(await ReadLineAsync(b), Is.EqualTo("19 1000"));
        Assert.That((first.PidsMaxHit(), second.PidsMaxHit()), Is.EqualTo((true, true)));
        foreach (var p in (Process[])[a, b])
        {
            p.StandardInput.Close();
            Assert.That(await ExitCodeAsync(p), Is.Zero, await p.StandardError.ReadToEndAsync());
        }
    }

    [Test]
    public async Task A_process_touching_more_than_the_memory_limit_is_oom_killed_and_one_below_it_is_not()
    {
        using var big = JobCgroup.Create(_support, RandomHex(), 64L << 20, maxTasks: 20);
        using var small = JobCgroup.Create(_support, RandomHex(), 64L << 20, maxTasks: 20);
        // bytes * n writes every page (a bytearray of zeros would leave them untouched and uncharged).
        var hog = StartIn(big, "x = b'x' * (200 << 20)\nprint('survived', len(x))");
        var fine = StartIn(small, "x = b'x' * (16 << 20)\nprint('fine', len(x))");
        Assert.That(await ExitCodeAsync(hog), Is.EqualTo(128 + 9), "SIGKILL from the OOM killer");
        Assert.That(await hog.StandardOutput.ReadToEndAsync(), Does.Not.Contain("survived"));
        Assert.That(big.OomKilled(), Is.True);
        Assert.That(await ExitCodeAsync(fine), Is.Zero, await fine.StandardError.ReadToEndAsync());
        Assert.That(await fine.StandardOutput.ReadToEndAsync(), Is.EqualTo("fine 16777216\n"));
        Assert.That(small.OomKilled(), Is.False);
    }

    [Test]
    public async Task Dispose_kills_every_process_left_inside_and_removes_the_folders()
    {
        var cgroup = JobCgroup.Create(_support, RandomHex(), 64L << 20, maxTasks: 20);
        // A shell with two children of its own, the way a job's processes outlive the one the runner knows.
        var shell = StartIn(cgroup, "/bin/sleep 300 & /bin/sleep 300 & echo started; wait", program: "/bin/sh");
        Assert.That(await ReadLineAsync(shell), Is.EqualTo("started"));
        var pids = JobCgroup.ParsePids(await File.ReadAllTextAsync(cgroup.ProcsFiles[0])).ToList();
        Assert.That(pids, Has.Count.EqualTo(3).And.Contains(shell.Id));

        cgroup.Dispose();

        Assert.That(cgroup.Directories.Where(Directory.Exists), Is.Empty);
        Assert.That(await ExitCodeAsync(shell), Is.EqualTo(128 + 9));
        foreach (var pid in pids)
        {
            Assert.That(await GoneAsync(pid), Is.True, $"pid {pid} still runs");
        }
        Assert.DoesNotThrow(cgroup.Dispose, "a second Dispose finds nothing to do");
    }

    [Test]
    public async Task RemoveStale_kills_and_removes_what_a_dead_runner_left_behind()
    {
        var left = JobCgroup.Create(_support, RandomHex(), 64L << 20, maxTasks: 20);
        var orphan = StartIn(left, "echo started; exec /bin/sleep 300", program: "/bin/sh");
        Assert.That(await ReadLineAsync(orphan), Is.EqualTo("started"));

        Assert.That(JobCgroup.RemoveStale(_support), Is.EqualTo(1), "one job, in two hierarchies");

        Assert.That(await ExitCodeAsync(orphan), Is.EqualTo(128 + 9));
        Assert.That(left.Directories.Where(Directory.Exists), Is.Empty);
        Assert.That(_support.Parents.SelectMany(Directory.GetDirectories), Is.Empty);
    }

    [Test]
    public void Create_names_the_file_it_failed_on_and_leaves_the_other_job_alone()
    {
        var id = RandomHex();
        using var first = JobCgroup.Create(_support, id, 64L << 20, maxTasks: 20);
        var e = Assert.Throws<SandboxException>(() => JobCgroup.Create(_support, id, 64L << 20, maxTasks: 20));
        Assert.That(e!.Message, Does.Contain("mkdir " + first.Directories[0]).And.Contain("File exists"));
        Assert.That(first.Directories.All(Directory.Exists), Is.True, "the existing job's cgroups are untouched");
        Assert.That(File.ReadAllText(first.Directories[0] + "/pids.max").Trim(), Is.EqualTo("20"));
        Assert.That(File.ReadAllText(first.Directories[1] + "/memory.limit_in_bytes").Trim(), Is.EqualTo((64L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Throws<SandboxException>(() => JobCgroup.Create(_support, "../escape", 64L << 20, 20));
        Assert.That(Assert.Throws<SandboxException>(() => JobCgroup.Create(CgroupSupport.None("no cgroups here"), RandomHex(), 64L << 20, 20))!.Message,
            Does.Contain("no cgroups here"));
    }

    [Test]
    public void Detect_changes_nothing_and_says_the_same_each_time()
    {
        var again = JobCgroup.Detect(JobCgroup.DefaultRoot, "/proc/self/cgroup", Path.GetFileName(_support.Parents[0]));
        Assert.That(again, Is.EqualTo(_support).Using<CgroupSupport>((x, y) => x.Mode == y.Mode && x.Description == y.Description && x.Parents.SequenceEqual(y.Parents)));
        Assert.That(_support.Parents.Where(Directory.Exists), Is.Empty, "v1 folders appear with the first job, not at detection");
        Assert.That(JobCgroup.Detect().Mode, Is.EqualTo(CgroupMode.V1));
    }

    [Test]
    public void Detect_as_a_non_root_user_says_none_and_why()
    {
        var support = AsUser(65534, 65534, JobCgroup.Detect);
        Assert.That(support.Mode, Is.EqualTo(CgroupMode.None));
        Assert.That(support.Description, Does.Contain("not writable by uid 65534").And.Contain("Permission denied"));
        Assert.That(support.Parents, Is.Empty);
    }

    [Test]
    public void Detect_on_a_cgroup2_mount_refuses_the_root_cgroup_and_a_cgroup_without_memory_and_pids()
    {
        Assume.That(CgroupNative.FileSystemMagic(Unified), Is.EqualTo(CgroupNative.CGROUP2_SUPER_MAGIC), "needs the hybrid cgroup2 mount at " + Unified);
        var ownV2 = JobCgroup.OwnCgroup(File.ReadAllText("/proc/self/cgroup"), null)!;
        var name = "boxbot-test-" + RandomHex();
        var self = Path.GetTempFileName();
        try
        {
            File.WriteAllText(self, "0::/\n");
            Assert.That(JobCgroup.Detect(Unified, self, "unused").Description, Does.Contain("root cgroup"));

            // This host binds every controller to v1, so a v2 cgroup here offers none of them.
            Assert.That(CgroupNative.mkdir(Unified + "/" + name, 0b111_101_101), Is.Zero, CgroupNative.LastError());
            _foldersToRemove.Add(Unified + "/" + name);
            File.WriteAllText(self, $"0::/{name}\n");
            var support = JobCgroup.Detect(Unified, self, "unused");
            Assert.That(support.Mode, Is.EqualTo(CgroupMode.None));
            Assert.That(support.Description, Does.Contain($"{Unified}/{name} does not offer memory and pids"));
            Assert.That(Directory.Exists($"{Unified}/{name}/runner"), Is.False, "nothing was moved or made");
        }
        finally
        {
            File.Delete(self);
            // Only if Detect wrongly went on: this process moved itself into .../runner. Move it back so the folder can go.
            if (Directory.Exists($"{Unified}/{name}/runner"))
            {
                File.WriteAllText(Unified + (ownV2 == "/" ? "" : ownV2) + "/cgroup.procs", "0");
                _ = CgroupNative.rmdir($"{Unified}/{name}/runner");
            }
        }
    }

    [Test]
    public async Task A_v2_job_cgroup_left_behind_is_killed_and_removed()
    {
        Assume.That(CgroupNative.FileSystemMagic(Unified), Is.EqualTo(CgroupNative.CGROUP2_SUPER_MAGIC), "needs the hybrid cgroup2 mount at " + Unified);
        var parent = Unified + "/boxbot-test-" + RandomHex();
        Assert.That(CgroupNative.mkdir(parent, 0b111_101_101), Is.Zero, CgroupNative.LastError());
        _foldersToRemove.Add(parent);
        Assert.That(CgroupNative.mkdir(parent + "/job-1", 0b111_101_101), Is.Zero, CgroupNative.LastError());
        Assert.That(File.Exists(parent + "/job-1/cgroup.kill"), Is.True, "cgroup.kill (Linux 5.14+)");
        var sleeper = Start(["/bin/sh", "-c", $"set -e; echo 0 > {parent}/job-1/cgroup.procs; echo started; exec /bin/sleep 300"]);
        Assert.That(await ReadLineAsync(sleeper), Is.EqualTo("started"));

        Assert.That(JobCgroup.RemoveStale(new CgroupSupport(CgroupMode.V2, "test", [parent])), Is.EqualTo(1));

        Assert.That(await ExitCodeAsync(sleeper), Is.EqualTo(128 + 9));
        Assert.That(Directory.Exists(parent + "/job-1"), Is.False);
    }

    [Test]
    public void Join_moves_the_calling_process_and_refuses_other_files()
    {
        // On the controller-less cgroup2 mount, where moving the test process itself changes nothing for it.
        Assume.That(CgroupNative.FileSystemMagic(Unified), Is.EqualTo(CgroupNative.CGROUP2_SUPER_MAGIC), "needs the hybrid cgroup2 mount at " + Unified);
        var own = JobCgroup.OwnCgroup(File.ReadAllText("/proc/self/cgroup"), null)!;
        var name = "boxbot-test-" + RandomHex();
        Assert.That(CgroupNative.mkdir($"{Unified}/{name}", 0b111_101_101), Is.Zero, CgroupNative.LastError());
        _foldersToRemove.Add($"{Unified}/{name}");
        try
        {
            JobCgroup.Join([$"{Unified}/{name}/cgroup.procs"]);
            Assert.That(JobCgroup.OwnCgroup(File.ReadAllText("/proc/self/cgroup"), null), Is.EqualTo("/" + name));
        }
        finally
        {
            JobCgroup.Join([Unified + (own == "/" ? "" : own) + "/cgroup.procs"]);
        }
        Assert.That(JobCgroup.OwnCgroup(File.ReadAllText("/proc/self/cgroup"), null), Is.EqualTo(own));
        Assert.Throws<SandboxException>(() => JobCgroup.Join([$"{Unified}/{name}/pids.max"]));
    }

    [Test]
    public void Own_cgroup_paths_are_read_from_proc_self_cgroup_in_either_mode()
    {
        const string v1 = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/f178\n2:cpu,cpuacct:/a:b\n0::/\n";
        Assert.That(JobCgroup.OwnCgroup(v1, "pids"), Is.EqualTo("/"));
        Assert.That(JobCgroup.OwnCgroup(v1, "memory"), Is.EqualTo("/process_api/f178"));
        Assert.That(JobCgroup.OwnCgroup(v1, "cpuacct"), Is.EqualTo("/a:b"));
        Assert.That(JobCgroup.OwnCgroup(v1, "systemd"), Is.Null);
        const string v2 = "0::/system.slice/boxbot-sandbox.service\n";
        Assert.That(JobCgroup.OwnCgroup(v2, null), Is.EqualTo("/system.slice/boxbot-sandbox.service"));
        Assert.That(JobCgroup.OwnCgroup(v2, "memory"), Is.Null);
        Assert.That(JobCgroup.OwnCgroup("1:name=systemd:/x\n", null), Is.Null);

        Assert.That(JobCgroup.V2Base("/system.slice/boxbot-sandbox.service/runner"), Is.EqualTo("/system.slice/boxbot-sandbox.service"));
        Assert.That(JobCgroup.V2Base("/system.slice/boxbot-sandbox.service"), Is.EqualTo("/system.slice/boxbot-sandbox.service"));
        Assert.That(JobCgroup.V2Base("/runner"), Is.EqualTo("/"));
    }

    [Test]
    public void Controller_lists_and_event_counters_are_parsed_from_sample_files()
    {
        Assert.That(JobCgroup.ParseControllers("cpuset cpu io memory hugetlb pids rdma misc\n"), Is.SupersetOf(new[] { "memory", "pids" }));
        Assert.That(JobCgroup.ParseControllers("\n"), Is.Empty);
        const string memoryEvents = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
        Assert.That(JobCgroup.Count(memoryEvents, "oom_kill"), Is.EqualTo(1));
        Assert.That(JobCgroup.Count(memoryEvents, "oom"), Is.EqualTo(2));
        Assert.That(JobCgroup.Count("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", "oom_kill"), Is.Zero);
        Assert.That(JobCgroup.Count("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill"), Is.EqualTo(3));
        Assert.That(JobCgroup.Count("max 7\n", "max"), Is.EqualTo(7));
        Assert.That(JobCgroup.Count("", "max"), Is.Zero);
        Assert.That(JobCgroup.ParsePids("12\n345\n\n"), Is.EqualTo(new[] { 12, 345 }));
    }

    /// <summary>
    /// Starts <paramref name="program"/> (python3 -c by default) inside <paramref name="cgroup"/>:
    /// a root shell joins every hierarchy, then python runs as nobody. set -e: a failed join ends it.
    /// </summary>
    private Process StartIn(JobCgroup cgroup, string code, string program = Python)
    {
        var join = string.Concat(cgroup.ProcsFiles.Select(f => $"echo 0 > {f}; "));
        return program == Python
            ? Start(["/bin/sh", "-c", "set -e; " + join + "exec \"$@\"", "sh",
                "/usr/bin/setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--", Python, "-c", code])
            : Start(["/bin/sh", "-c", "set -e; " + join + code]);
    }

    private Process Start(string[] argv)
    {
        var info = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in argv[1..])
        {
            info.ArgumentList.Add(a);
        }
        var p = Process.Start(info)!;
        _processes.Add(p);
        return p;
    }

    private static async Task<string?> ReadLineAsync(Process p)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await p.StandardOutput.ReadLineAsync(timeout.Token);
        return line ?? "(exit) " + await p.StandardError.ReadToEndAsync(timeout.Token);
    }

    private static async Task<int> ExitCodeAsync(Process p)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);
        return p.ExitCode;
    }

    /// <summary>Gone or a zombie: killed, whether or not its parent has reaped it yet.</summary>
    private static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 500; i++)
        {
            string stat;
            try
            {
                stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return true;
            }
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
            {
                return true;
            }
            await Task.Delay(10);
        }
        return false;
    }

    private static string RandomHex() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own with real and effective ids
    /// <paramref name="uid"/>/<paramref name="gid"/>, so the kernel checks its file access as that
    /// user. Linux credentials are per thread; the raw syscalls change only this thread's (glibc's
    /// wrappers would change every thread's), and the saved ids stay 0 so it can change back.
    /// </summary>
    private static T AsUser<T>(uint uid, uint gid, Func<T> action)
    {
        var arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        long setresuid = arm64 ? 147 : 117, setresgid = arm64 ? 149 : 119;
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            if (syscall(setresgid, (nint)gid, (nint)gid, 0) != 0 || syscall(setresuid, (nint)uid, (nint)uid, 0) != 0)
            {
                error = new InvalidOperationException("setresuid/setresgid: " + CgroupNative.LastError());
                return;
            }
            try
            {
                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                if (syscall(setresuid, 0, 0, 0) != 0 || syscall(setresgid, 0, 0, 0) != 0)
                {
                    error = new InvalidOperationException("restoring root: " + CgroupNative.LastError());
                }
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? result : throw new AssertionException("as uid " + uid + ": " + error.Message, error);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3);
}
