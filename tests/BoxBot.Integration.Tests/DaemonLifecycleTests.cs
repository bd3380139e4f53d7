using System.Net;
using System.Net.Sockets;
using System.Text;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

public class DaemonLifecycleTests
{
    private static readonly string[] Phases = ["stop-accepting", "drain", "flush", "close-storage"];
    private string _home = "";
    private string _config = "";

    private static IEnumerable<string> DaemonNames => Daemons.All.Select(d => d.Name);

    [SetUp]
    public void SetUp()
    {
        _home = TestEnv.TempDir("daemon");
        _config = Path.Combine(_home, "test.toml");
        // Port 0: the webhook picks a free port, so tests never collide with a running box.
        File.WriteAllText(_config, "[webhook]\nport = 0\n");
        WebhookBox.WriteCredentials(_home);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_home, recursive: true);

    [TestCaseSource(nameof(DaemonNames))]
    public async Task Each_daemon_answers_status_and_shuts_down_in_named_phases_on_SIGTERM(string name)
    {
        var daemon = Daemons.Find(name)!;
        using var process = DaemonProcess.Start(daemon, _home, ["--config", _config]);

        var status = await process.WaitReadyAsync();

        Assert.That(status.Name, Is.EqualTo(daemon.Name));
        Assert.That(status.Pid, Is.EqualTo(process.Process.Id));
        Assert.That(status.Version, Does.StartWith("0."));
        Assert.That(status.ConfigPath, Is.EqualTo(_config));
        Assert.That(status.UptimeSeconds, Is.GreaterThanOrEqualTo(0));
        Assert.That(File.GetUnixFileMode(process.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));

        TestEnv.Signal(process.Process.Id, LinuxProcess.SIGTERM);

        Assert.That(process.WaitExit(), Is.EqualTo(0), process.Log);
        Assert.That(File.Exists(process.SocketPath), Is.False, "the socket file is removed on shutdown");
        var phaseLines = Phases.Select(p => process.Lines.ToList().FindIndex(l => l.Contains("shutdown phase " + p, StringComparison.Ordinal))).ToList();
        Assert.That(phaseLines, Has.None.EqualTo(-1), process.Log);
        Assert.That(phaseLines, Is.Ordered, process.Log);
        Assert.That(process.Lines, Has.Some.Contains("stopped after"));
    }

    [Test]
    public async Task SIGINT_shuts_a_daemon_down_as_gracefully_as_SIGTERM()
    {
        using var process = DaemonProcess.Start(Daemons.Agent, _home, ["--config", _config]);
        await process.WaitReadyAsync();

        TestEnv.Signal(process.Process.Id, LinuxProcess.SIGINT);

        Assert.That(process.WaitExit(), Is.EqualTo(0), process.Log);
        Assert.That(process.Lines, Has.Some.Contains("shutdown phase close-storage"));
    }

    [Test]
    public async Task Log_lines_carry_journald_priority_prefixes()
    {
        using var process = DaemonProcess.Start(Daemons.Sandbox, _home, ["--config", _config]);
        await process.WaitReadyAsync();
        TestEnv.Signal(process.Process.Id, LinuxProcess.SIGTERM);
        process.WaitExit();

        Assert.That(process.Lines, Is.Not.Empty);
        Assert.That(process.Lines, Has.All.Match(@"^<[0-7]>\S+: "));
        Assert.That(process.Lines, Has.Some.StartsWith("<6>").And.Contains("ready in"));
    }

    [Test]
    public void A_config_error_stops_the_daemon_naming_file_line_column_and_key()
    {
        File.WriteAllText(_config, "[agent]\nsocket_group = \"\"\nbogus = 1\n");
        using var process = DaemonProcess.Start(Daemons.Agent, _home, ["--config", _config]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain($"{_config}:3:1").And.Contain("agent.bogus"));
        Assert.That(File.Exists(process.SocketPath), Is.False, "nothing is served with a bad config");
    }

    [Test]
    public void An_explicit_config_that_does_not_exist_is_an_error()
    {
        var missing = Path.Combine(_home, "nope.toml");
        using var process = DaemonProcess.Start(Daemons.Agent, _home, ["--config", missing]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain(missing).And.Contain("not found"));
    }

    [Test]
    public void Unknown_options_are_usage_errors_with_exit_code_2_and_help_answers()
    {
        var bad = TestEnv.Run(TestEnv.Exe("boxbot-agent"), ["--no-such-flag"]);
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Stderr, Does.Contain("--no-such-flag"));

        var help = TestEnv.Run(TestEnv.Exe("boxbot-agent"), ["--help"]);
        Assert.That(help.ExitCode, Is.EqualTo(0));
        Assert.That(help.Stdout, Does.Contain("--config").And.Contain("--log-level").And.Contain("Exit codes"));
    }

    [Test]
    public async Task sd_notify_gets_READY_watchdog_pings_and_STOPPING_on_the_notify_socket()
    {
        var notifyPath = Path.Combine(_home, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        using var process = DaemonProcess.Start(Daemons.Perception, _home, ["--config", _config],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath, ["WATCHDOG_USEC"] = "200000" });

        var seen = new List<string>();
        await ReceiveUntilAsync(notify, seen, m => m.Contains("READY=1", StringComparison.Ordinal));
        await ReceiveUntilAsync(notify, seen, m => m == "WATCHDOG=1");
        TestEnv.Signal(process.Process.Id, LinuxProcess.SIGTERM);
        await ReceiveUntilAsync(notify, seen, m => m.Contains("STOPPING=1", StringComparison.Ordinal));

        Assert.That(seen[0], Does.Contain("READY=1").And.Contain($"MAINPID={process.Process.Id}").And.Contain("STATUS=serving on"));
        Assert.That(process.WaitExit(), Is.EqualTo(0));
    }

    [Test]
    public async Task Without_NOTIFY_SOCKET_the_daemon_runs_silently_without_systemd()
    {
        using var process = DaemonProcess.Start(Daemons.Perception, _home, ["--config", _config], new Dictionary<string, string> { ["WATCHDOG_USEC"] = "200000" });
        await process.WaitReadyAsync();
        TestEnv.Signal(process.Process.Id, LinuxProcess.SIGTERM);
        Assert.That(process.WaitExit(), Is.EqualTo(0), process.Log);
        Assert.That(process.Log, Does.Not.Contain("NOTIFY"));
    }

    [Test]
    public void A_webhook_port_already_in_use_stops_the_webhook_with_a_clear_message()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        File.WriteAllText(_config, $"[webhook]\nport = {port}\n");

        using var process = DaemonProcess.Start(Daemons.Webhook, _home, ["--config", _config]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain("cannot start").And.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(File.Exists(process.SocketPath), Is.False);
    }

    private static async Task ReceiveUntilAsync(Socket socket, List<string> seen, Func<string, bool> done)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            var message = Encoding.UTF8.GetString(buffer, 0, n);
            seen.Add(message);
            if (done(message))
            {
                return;
            }
        }
    }
}
