using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>The runner's own behaviour: queueing, refusing bad requests, failing closed.</summary>
[Category("root")]
public sealed class RunnerTests
{
    [Test]
    public async Task A_full_queue_is_refused_at_once_and_the_admitted_jobs_finish()
    {
        var options = SandboxFixture.Options("queue") with { MaxConcurrentJobs = 1, QueueLength = 1 };
        await using var runner = new SandboxRunner(options, NullLogger.Instance);
        var first = Jobs.RunAsync("import time\ntime.sleep(2)\nprint('first')", runner);
        var second = Jobs.RunAsync("print('second')", runner);
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<SandboxBusyException>(() => Jobs.RunAsync("print('third')", runner));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "refused, not queued");
        Assert.That((runner.Running, runner.Queued), Is.EqualTo((1, 1)));
        Assert.That((await first).Stdout, Is.EqualTo("first\n"));
        Assert.That((await second).Stdout, Is.EqualTo("second\n"));
    }

    [Test]
    public async Task Overrides_above_the_configured_maxima_and_bad_secret_names_are_refused()
    {
        // A request's own fault, which the daemon answers with -32602 (a usage error at the CLI).
        await Assert.ThrowsAsync<SandboxRequestException>(() => Jobs.RunAsync("print(1)", timeout: TimeSpan.FromMinutes(5)));
        await Assert.ThrowsAsync<SandboxRequestException>(() => Jobs.RunAsync("print(1)", memory: 1L << 40));
        await Assert.ThrowsAsync<SandboxRequestException>(() => Jobs.RunAsync("print(1)", secrets: new Dictionary<string, string> { ["lower"] = "x" }));
        await Assert.ThrowsAsync<SandboxRequestException>(() => Jobs.RunAsync(new string('#', 300 * 1024)));
    }

    [Test]
    public async Task A_set_up_failure_fails_closed_and_names_the_step()
    {
        var options = SandboxFixture.Options("broken") with { ExtraReadOnlyPaths = ["/nonexistent-boxbot-path"] };
        await using var runner = new SandboxRunner(options, NullLogger.Instance);
        var r = await Jobs.RunAsync("print('RAN')", runner);
        Assert.That(r.Status, Is.EqualTo("error"), Jobs.Describe(r));
        Assert.That(r.Error, Does.StartWith("boxbot-sandbox exec: setup failed: mounts:").And.Contain("/nonexistent-boxbot-path"));
        Assert.That(r.Stdout, Does.Not.Contain("RAN"));
    }

    [Test]
    public async Task Cancelling_a_job_kills_it()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        await Assert.CatchAsync<OperationCanceledException>(() => SandboxFixture.Runner.RunAsync(new JobRequest { Script = "import time\ntime.sleep(20)" }, cts.Token));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        var after = await Jobs.RunAsync("print('fine')");
        Assert.That(after.Status, Is.EqualTo("ok"), Jobs.Describe(after));
    }

    [Test]
    public async Task Job_folders_a_dead_runner_left_mounted_are_removed_at_start()
    {
        var options = SandboxFixture.Options("stale");
        var workspace = Path.Combine(options.JobsDir, "0123456789abcdef", "workspace");
        Directory.CreateDirectory(workspace);
        using (var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", workspace])!)
        {
            await mount.WaitForExitAsync();
            Assert.That(mount.ExitCode, Is.EqualTo(0));
        }
        await File.WriteAllTextAsync(Path.Combine(workspace, "old.txt"), "x");
        await using var runner = new SandboxRunner(options, NullLogger.Instance);
        runner.Validate();
        Assert.That(Directory.GetFileSystemEntries(options.JobsDir), Is.Empty);
        Assert.That(await File.ReadAllTextAsync("/proc/self/mountinfo"), Does.Not.Contain(workspace));
    }

    [Test]
    public async Task Disposing_the_runner_kills_running_and_queued_jobs_and_refuses_new_ones()
    {
        var options = SandboxFixture.Options("dispose") with { MaxConcurrentJobs = 1 };
        var runner = new SandboxRunner(options, NullLogger.Instance);
        var running = Jobs.RunAsync("import time\ntime.sleep(30)", runner);
        var queued = Jobs.RunAsync("print('never')", runner);
        await Task.Delay(500);
        var clock = Stopwatch.StartNew();
        await runner.DisposeAsync();
        await runner.DisposeAsync();
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        await Assert.CatchAsync<OperationCanceledException>(() => running);
        await Assert.CatchAsync<OperationCanceledException>(() => queued);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Jobs.RunAsync("print(1)", runner));
        Assert.That(Directory.GetFileSystemEntries(options.JobsDir), Is.Empty);
    }

    [Test]
    public async Task A_runner_that_is_neither_root_nor_the_job_user_refuses_to_run_jobs_and_says_why()
    {
        var info = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--reuid=nobody", "--regid=nogroup", "--clear-groups",
            SandboxFixture.TestLauncherPath, "validate", "/nonexistent/jobs"])
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("which is neither root nor the job user 'boxbot-sandbox'"));
    }

    [DllImport("libc")]
    private static extern uint umask(uint mask);

    [Test]
    public async Task A_runner_under_umask_077_still_builds_a_root_the_job_can_use()
    {
        // A hardened unit (UMask=0077) must not leave the job's mount points unreachable to the job user.
        await using var runner = new SandboxRunner(SandboxFixture.Options("umask") with { WarmJobs = 0 }, NullLogger.Instance);
        var old = umask(0x3F);
        try
        {
            var r = await Jobs.RunAsync("import bb, os\nprint(oct(os.stat('/opt/boxbot/runtime').st_mode & 0o777))", runner);
            Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "0o755\n")), Jobs.Describe(r));
        }
        finally
        {
            umask(old);
        }
    }
}
