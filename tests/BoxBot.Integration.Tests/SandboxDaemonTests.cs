using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The published sandbox daemon as root: it keeps warm jobs (their workspaces mounted) in a mount
/// namespace of its own, so a daemon that is killed leaves no mount behind on the host.
/// </summary>
[Category("root")]
public class SandboxDaemonTests
{
    private string _home = "";
    private string _config = "";

    [SetUp]
    public void SetUp()
    {
        TestEnv.RequireRoot();
        TestEnv.EnsureUser("boxbot-sandbox");
        _home = TestEnv.TempDir("sandbox-daemon");
        _config = Path.Combine(_home, "test.toml");
        File.WriteAllText(_config, "[sandbox]\nwarm_jobs = 2\n");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_home, recursive: true);

    private static async Task<SystemStatus> WaitForWarm(DaemonProcess daemon)
    {
        var status = await daemon.WaitReadyAsync();
        var clock = Stopwatch.StartNew();
        while (status.Details.GetValueOrDefault("warm") != "2")
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "warm jobs never started: " + string.Join(", ", status.Details) + "\n" + daemon.Log);
            await Task.Delay(50);
            status = await daemon.StatusAsync();
        }
        return status;
    }

    [Test]
    public async Task A_killed_daemon_leaves_no_job_mount_on_the_host_and_its_next_start_clears_the_rest()
    {
        using var daemon = DaemonProcess.Start(Daemons.Sandbox, _home, ["--config", _config]);
        var status = await WaitForWarm(daemon);
        Assert.That(status.Details["cgroups"], Is.Not.Empty);
        var jobs = Path.Combine(_home, "state", Daemons.Sandbox.StateName, "jobs");
        Assert.That(Directory.GetDirectories(jobs), Has.Length.EqualTo(2), "two warm jobs' folders");
        Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain(jobs), "the workspaces are not mounted in the host's namespace");

        TestEnv.Signal(daemon.Process.Id, LinuxProcess.SIGKILL);
        daemon.WaitExit();

        // The state folder goes with a plain recursive delete (TearDown): nothing is mounted in it.
        Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain(_home));

        // What a kill does leave (the two folders, their cgroups where there are some) goes at the next start,
        // and a clean stop leaves nothing at all.
        using var again = DaemonProcess.Start(Daemons.Sandbox, _home, ["--config", _config]);
        await WaitForWarm(again);
        Assert.That(again.Log, Does.Contain("left behind"));
        TestEnv.Signal(again.Process.Id, LinuxProcess.SIGTERM);
        Assert.That(again.WaitExit(), Is.Zero, again.Log);
        Assert.That(Directory.GetDirectories(jobs), Is.Empty, "job folders after a clean stop");
        var group = "boxbot-jobs-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobs)))[..12];
        var cgroups = Directory.GetDirectories("/sys/fs/cgroup", group, SearchOption.AllDirectories);
        Assert.That(cgroups, Is.Empty, "this daemon's cgroups after a clean stop");
    }
}
