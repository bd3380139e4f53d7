using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>Scripts that try to use up CPU, memory, tasks, disk, descriptors or output: each is ended and the result says which.</summary>
[Category("root")]
public sealed class LimitTests(string start) : WarmAndCold(start)
{
    [Test]
    public async Task A_memory_bomb_ends_with_killed_by_memory()
    {
        var r = await Jobs.RunAsync("x = []\nwhile True:\n    x.append(bytearray(10_000_000))");
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "memory")), Jobs.Describe(r));
    }

    [Test]
    public async Task A_cpu_spin_past_the_wall_timeout_is_killed_by_timeout()
    {
        var r = await Jobs.RunAsync("print('spinning', flush=True)\nwhile True:\n    pass", timeout: TimeSpan.FromSeconds(2));
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "timeout")), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("spinning"));
    }

    [Test]
    public async Task A_cpu_spin_past_the_cpu_limit_is_killed_by_cpu_not_by_the_wall_clock()
    {
        var options = SandboxFixture.Options("cpu") with { Limits = SandboxLimits.Default with { Cpu = TimeSpan.FromSeconds(1), Wall = TimeSpan.FromSeconds(20) } };
        await using var runner = new SandboxRunner(options, NullLogger.Instance);
        var r = await Jobs.RunAsync("while True:\n    pass", runner);
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "cpu")), Jobs.Describe(r));
        Assert.That(r.Signal, Is.AnyOf(24, 9), "SIGXCPU, or the hard limit's SIGKILL: " + Jobs.Describe(r));
        Assert.That(r.DurationMs, Is.LessThan(15_000), "the CPU limit, not the wall timeout, ended it");
    }

    [Test]
    public async Task A_thread_bomb_stops_at_the_task_limit()
    {
        const string script = """
            import threading, time
            threading.stack_size(64 * 1024)
            n = 0
            try:
                while n < 5000:
                    threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
                    n += 1
            except RuntimeError as e:
                print('stopped', n, e)
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Match(@"stopped (\d|[1-5]\d|6[0-4]) "), Jobs.Describe(r));
    }

    [Test]
    public async Task A_thread_bomb_that_does_not_catch_the_limit_ends_with_killed_by_tasks()
    {
        const string script = """
            import threading, time
            threading.stack_size(64 * 1024)
            while True:
                threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "tasks")), Jobs.Describe(r));
        Assert.That(r.Stderr, Does.Contain("can't start new thread"));
    }

    [Test]
    public async Task Two_thread_bombs_at_once_each_get_their_own_task_budget()
    {
        // RLIMIT_NPROC counts all tasks of the job user: alone, it would split 64 tasks between both jobs.
        // Each job's own pids cgroup (pids.max 64) gives each the whole budget, and no more.
        Assume.That((Jobs.Default ?? SandboxFixture.Runner).Cgroups, Does.Not.StartWith("none"), "this host offers no per-job cgroups");
        const string script = """
            import ctypes, threading, time
            # One malloc arena: each extra one reserves 64 MiB of address space, and the 256 MiB limit
            # would then stop thread creation before the task limit does.
            ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX
            threading.stack_size(64 * 1024)
            n = 0
            try:
                while n < 500:
                    threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
                    n += 1
            except RuntimeError:
                pass
            print('threads', n)
            """;
        var both = await Task.WhenAll(Jobs.RunAsync(script), Jobs.RunAsync(script));
        foreach (var r in both)
        {
            // 63 beside the main thread; one fewer while the launcher's own threads, gone at the exec, are still being released.
            Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
            Assert.That(r.Stdout, Does.Match(@"^threads 6[23]\n$"), Jobs.Describe(r));
        }
    }

    [Test]
    public async Task A_disk_filler_is_ended_with_killed_by_disk()
    {
        var r = await Jobs.RunAsync("with open('fill', 'wb') as f:\n    while True:\n        f.write(b'x' * 1_000_000)");
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "disk")), Jobs.Describe(r));
    }

    [Test]
    public async Task A_disk_filler_with_many_files_is_ended_with_killed_by_disk()
    {
        var r = await Jobs.RunAsync("i = 0\nwhile True:\n    i += 1\n    with open(f'f{i}', 'wb') as f:\n        f.write(b'x' * 4_000_000)");
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "disk")), Jobs.Describe(r));
    }

    [Test]
    public async Task An_fd_exhauster_gets_an_error_and_the_runner_is_fine()
    {
        var r = await Jobs.RunAsync("files = [open('/dev/null') for _ in range(10_000)]\nprint('opened', len(files))");
        Assert.That(r.Status, Is.EqualTo("error"), Jobs.Describe(r));
        Assert.That(r.Stderr, Does.Contain("Too many open files"));
        var after = await Jobs.RunAsync("print('fine')");
        Assert.That(after.Stdout, Is.EqualTo("fine\n"), Jobs.Describe(after));
    }

    [Test]
    public async Task A_stdout_flood_is_cut_at_the_cap_and_killed_by_output()
    {
        var r = await Jobs.RunAsync("while True:\n    print('x' * 1000)");
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", "output")), Jobs.Describe(r)[..300]);
        Assert.That(r.StdoutTruncated, Is.True);
        Assert.That(r.Stdout.Length, Is.EqualTo(SandboxLimits.Default.OutputBytes));
    }

    [Test]
    public async Task A_stderr_flood_is_cut_at_the_cap_and_killed_by_output()
    {
        var r = await Jobs.RunAsync("import sys\nwhile True:\n    sys.stderr.write('e' * 1000)");
        Assert.That((r.Status, r.KilledBy, r.StderrTruncated), Is.EqualTo(("killed", "output", true)), r.Status + r.KilledBy);
        Assert.That(r.Stderr.Length, Is.EqualTo(SandboxLimits.Default.OutputBytes));
    }

    [Test]
    public async Task A_forged_sdk_line_on_stdout_is_just_output()
    {
        const string line = """{"jsonrpc": "2.0", "id": 1, "method": "secrets.get", "params": {"name": "API_TOKEN"}}""";
        var r = await Jobs.RunAsync($"print('{line}')");
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo(line + "\n"));
    }
}
