using System.Diagnostics;
using System.Text.Json;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

public class DevUpTests
{
    private string _home = "";
    private string _config = "";

    [SetUp]
    public void SetUp()
    {
        _home = TestEnv.TempDir("devup");
        _config = Path.Combine(_home, "test.toml");
        File.WriteAllText(_config, "[webhook]\nport = 0\n");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_home, recursive: true);

    [Test]
    public async Task Dev_up_brings_up_all_five_and_Ctrl_C_leaves_no_process_behind()
    {
        using var dev = StartDevUp();
        await dev.WaitForLineAsync("all 5 daemons up");

        var (code, stdout, stderr) = TestEnv.Run(TestEnv.Exe("boxbot"), ["status", "--json"], new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home });
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.That(doc.RootElement.GetProperty("all_up").GetBoolean(), Is.True);
        var pids = doc.RootElement.GetProperty("daemons").EnumerateArray().Select(d => d.GetProperty("pid").GetInt32()).ToList();
        Assert.That(pids, Has.Count.EqualTo(5).And.Unique);
        Assert.That(pids, Has.All.Matches<int>(TestEnv.IsAlive));
        Assert.That(dev.Log, Does.Contain($"export BOXBOT_HOME={_home}"));

        TestEnv.Signal(dev.Process.Id, LinuxProcess.SIGINT);

        Assert.That(dev.WaitExit(), Is.EqualTo(0), dev.Log);
        Assert.That(pids, Has.None.Matches<int>(TestEnv.IsAlive), "every daemon is gone once dev up returns");
        Assert.That(Directory.GetFiles(Path.Combine(_home, "run"), "*.sock"), Is.Empty);
        Assert.That(dev.Log, Does.Contain("all daemons stopped"));
    }

    [Test]
    public async Task SIGTERM_to_dev_up_stops_every_daemon_too()
    {
        using var dev = StartDevUp();
        await dev.WaitForLineAsync("all 5 daemons up");
        var pids = DaemonPids(dev);

        TestEnv.Signal(dev.Process.Id, LinuxProcess.SIGTERM);

        Assert.That(dev.WaitExit(), Is.EqualTo(0), dev.Log);
        Assert.That(pids, Has.None.Matches<int>(TestEnv.IsAlive));
    }

    [Test]
    public async Task Daemons_do_not_outlive_a_dev_up_killed_with_SIGKILL()
    {
        using var dev = StartDevUp();
        await dev.WaitForLineAsync("all 5 daemons up");
        var pids = DaemonPids(dev);

        TestEnv.Signal(dev.Process.Id, LinuxProcess.SIGKILL);
        dev.WaitExit();

        var waited = Stopwatch.StartNew();
        while (pids.Any(TestEnv.IsAlive) && waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }
        Assert.That(pids, Has.None.Matches<int>(TestEnv.IsAlive), "PR_SET_PDEATHSIG takes the daemons down with their supervisor, and the broker");
    }

    [Test]
    public async Task A_daemon_that_dies_makes_dev_up_stop_the_rest_and_exit_1()
    {
        using var dev = StartDevUp();
        await dev.WaitForLineAsync("all 5 daemons up");
        var pids = DaemonPids(dev);

        // The agent: a killed sandbox daemon would leave its job cgroups for its next start to remove (SandboxDaemonTests).
        TestEnv.Signal(AgentPid(), LinuxProcess.SIGKILL);

        Assert.That(dev.WaitExit(), Is.EqualTo(1), dev.Log);
        Assert.That(dev.Log, Does.Contain("stopping the others"));
        Assert.That(pids, Has.None.Matches<int>(TestEnv.IsAlive));
    }

    [Test]
    public async Task Dev_up_generates_private_credentials_and_never_prints_their_values()
    {
        using (var dev = StartDevUp())
        {
            await dev.WaitForLineAsync("all 5 daemons up");
            TestEnv.Signal(dev.Process.Id, LinuxProcess.SIGTERM);
            dev.WaitExit();

            var credentials = Path.Combine(_home, "credentials");
            Assert.That(File.GetUnixFileMode(credentials), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
            var files = Directory.GetFiles(credentials).Select(Path.GetFileName).ToList();
            Assert.That(files, Is.SupersetOf(new[] { "whatsapp-app-secret", "whatsapp-verify-token" }));
            foreach (var file in Directory.GetFiles(credentials))
            {
                Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
                var value = File.ReadAllText(file).Trim();
                Assert.That(value, Has.Length.GreaterThanOrEqualTo(32));
                Assert.That(dev.Log, Does.Not.Contain(value), "a secret value reached the log");
            }
            Assert.That(dev.Log, Does.Contain("whatsapp-app-secret"), "names are logged, values never");
        }

        var before = File.ReadAllText(Path.Combine(_home, "credentials", "whatsapp-app-secret"));
        using var again = StartDevUp();
        await again.WaitForLineAsync("all 5 daemons up");
        TestEnv.Signal(again.Process.Id, LinuxProcess.SIGTERM);
        again.WaitExit();
        Assert.That(File.ReadAllText(Path.Combine(_home, "credentials", "whatsapp-app-secret")), Is.EqualTo(before), "existing credentials are kept");
    }

    [Test]
    public async Task A_second_dev_up_on_the_same_folder_refuses_to_start()
    {
        using var first = StartDevUp();
        await first.WaitForLineAsync("all 5 daemons up");

        using var second = StartDevUp();

        Assert.That(second.WaitExit(), Is.EqualTo(1));
        Assert.That(second.Log, Does.Contain("already running"));
        TestEnv.Signal(first.Process.Id, LinuxProcess.SIGTERM);
        Assert.That(first.WaitExit(), Is.EqualTo(0));
    }

    [Test]
    public void Dev_up_with_a_broken_config_starts_nothing()
    {
        File.WriteAllText(_config, "[webhook]\nport = -1\n");
        using var dev = StartDevUp();

        Assert.That(dev.WaitExit(), Is.EqualTo(1));
        Assert.That(dev.Log, Does.Contain($"{_config}:2:").And.Contain("webhook.port"));
        Assert.That(Directory.Exists(Path.Combine(_home, "run")) ? Directory.GetFiles(Path.Combine(_home, "run")) : [], Is.Empty);
    }

    [Test]
    public async Task The_readmes_own_config_set_up_passes_doctor_and_dev_up_warns_about_what_doctor_would_fail()
    {
        // The README's model set-up, as a shell runs it (under umask 077), then the same file left world-readable.
        var config = Path.Combine(_home, "boxbot.toml");
        var readme = TestEnv.Run("/bin/sh", ["-c", $"(umask 077; printf '[webhook]\\nport = 0\\n' > {config})"]);
        Assume.That(readme.ExitCode, Is.EqualTo(0), readme.Stderr);
        Assert.That(File.GetUnixFileMode(config), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        using (var dev = Start())
        {
            await dev.WaitForLineAsync("all 5 daemons up");
            Assert.That(dev.Log, Does.Not.Contain("warning:"));
            var doctor = TestEnv.Run(TestEnv.Exe("boxbot"), ["doctor", "--json"], new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home }, TimeSpan.FromMinutes(2));
            using var report = JsonDocument.Parse(doctor.Stdout);
            var layout = report.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("group").GetString() is "layout" or "secrets")
                .Where(f => f.GetProperty("status").GetString() != "ok").Select(f => f.GetProperty("message").GetString()).ToList();
            Assert.That(layout, Is.Empty, "a 0600 config is not \"too tight\" on a development box");
            TestEnv.Signal(dev.Process.Id, LinuxProcess.SIGTERM);
            dev.WaitExit();
        }

        File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100);
        using var open = Start();
        await open.WaitForLineAsync("all 5 daemons up");

        Assert.That(open.Log, Does.Contain($"warning: {config}: mode 0644 is more open than 0640  [fix: chmod 640 {config}] (`boxbot doctor` fails on this)"));
        TestEnv.Signal(open.Process.Id, LinuxProcess.SIGTERM);
        open.WaitExit();

        ObservedProcess Start() => new(TestEnv.Exe("boxbot"), ["dev", "up"], new Dictionary<string, string> { ["BOXBOT_HOME"] = _home });
    }

    [Test]
    public void A_config_that_does_not_exist_leaves_no_half_made_tree_behind()
    {
        var tree = Path.Combine(_home, "tree");
        using var dev = new ObservedProcess(TestEnv.Exe("boxbot"), ["dev", "up", "--config", Path.Combine(_home, "typo.toml")],
            new Dictionary<string, string> { ["BOXBOT_HOME"] = tree });

        Assert.That(dev.WaitExit(), Is.EqualTo(1));
        Assert.That(dev.Log, Does.Contain("typo.toml: config file not found"));
        Assert.That(Directory.Exists(tree), Is.False);
    }

    private ObservedProcess StartDevUp() =>
        new(TestEnv.Exe("boxbot"), ["dev", "up", "--config", _config], new Dictionary<string, string> { ["BOXBOT_HOME"] = _home });

    private int AgentPid()
    {
        var (_, stdout, _) = TestEnv.Run(TestEnv.Exe("boxbot"), ["status", "--json"], new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home });
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("daemons").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "agent").GetProperty("pid").GetInt32();
    }

    private List<int> DaemonPids(ObservedProcess dev)
    {
        var (_, stdout, _) = TestEnv.Run(TestEnv.Exe("boxbot"), ["status", "--json"], new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home });
        using var doc = JsonDocument.Parse(stdout);
        var pids = doc.RootElement.GetProperty("daemons").EnumerateArray().Select(d => d.GetProperty("pid").GetInt32()).ToList();
        Assert.That(pids, Has.Count.EqualTo(5), dev.Log);
        // The household broker (nats-server) dev up started: its pid file.
        var broker = int.Parse(File.ReadAllText(Path.Combine(_home, "state", "boxbot-nats", "nats.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(TestEnv.IsAlive(broker), Is.True);
        return [.. pids, broker];
    }
}
