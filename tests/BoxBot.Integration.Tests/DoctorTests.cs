using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using BoxBot.Cli.Doctor;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// `boxbot doctor` (the published CLI) against a whole development box under `boxbot dev up`: real daemons, real
/// sandbox jobs for the seccomp and network probes, the kernel's own socket tables for the webhook's bind.
/// </summary>
[Category("root")]
public partial class DoctorTests
{
    private DevBox? _box;

    private string Home => _box!.Home;

    [OneTimeSetUp]
    public async Task StartBox()
    {
        TestEnv.RequireRoot();
        _box = new DevBox(TestEnv.TempDir("doctor"));
        await _box.StartAsync("[webhook]\nport = 0\n[sandbox]\ntimeout_s = 20\n");
    }

    [OneTimeTearDown]
    public void StopBox() => _box?.Dispose();

    [Test]
    public void Doctor_passes_on_a_healthy_development_box_where_the_fork_probe_is_killed_by_seccomp()
    {
        var (code, stdout, stderr) = Doctor(_box!, "--json");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var findings = Findings(stdout);
        Assert.That(findings.Where(f => f.Status == "fail"), Is.Empty);
        var seccomp = findings.Single(f => f.Id == "sandbox.seccomp");
        Assert.That(seccomp.Status, Is.EqualTo("ok"));
        Assert.That(seccomp.Message, Does.Contain("killed by seccomp"));
        foreach (var skipped in new[] { "users.all", "units.all", "ssh.sshd", "firewall.nft" })
        {
            Assert.That(findings.Single(f => f.Id == skipped).Status, Is.EqualTo("skip"), skipped);
            Assert.That(findings.Single(f => f.Id == skipped).Message, Does.Contain("development box"), skipped);
        }
        var layout = findings.Where(f => f.Group == "layout").ToList();
        Assert.That(layout.Select(f => f.Status), Is.All.EqualTo("ok"));
        Assert.That(layout.Select(f => f.Id), Does.Contain($"layout.{Home}/credentials").And.Contain($"layout.{Home}/run/{Daemons.Agent.SocketName}"));
        Assert.That(findings.Where(f => f.Group == "secrets" && f.Id.Contains("/credentials/", StringComparison.Ordinal)).Select(f => f.Status),
            Is.Not.Empty.And.All.EqualTo("ok"));
        Assert.That(findings.Single(f => f.Id == "webhook.bind").Status, Is.EqualTo("ok"));
        foreach (var daemon in Daemons.All)
        {
            Assert.That(findings.Single(f => f.Id == "versions." + daemon.Name).Status, Is.EqualTo("ok"), daemon.Name);
        }
    }

    [Test]
    public void Loopback_is_refused_to_internet_jobs_by_the_dev_sandbox_daemons_egress_proxy()
    {
        var findings = Findings(Doctor(_box!, "--json").Stdout);

        // The dev tree's sandbox daemon serves the same egress proxy as the boxbot-egress unit: loopback is refused (403).
        foreach (var id in new[] { "sandbox.network.loopback-ssh", "sandbox.network.loopback-webhook" })
        {
            var f = findings.Single(f => f.Id == id);
            Assert.That(f.Status, Is.EqualTo("ok"), id);
            Assert.That(f.Message, Does.Contain("127.0.0.1:").And.Contain("proxy-403"), id);
        }
    }

    [Test]
    public void A_world_readable_credential_fails_naming_the_path_and_chmod_600_and_the_fix_works()
    {
        var credential = Path.Combine(Home, "credentials", "whatsapp-verify-token");
        File.SetUnixFileMode(credential, (UnixFileMode)Convert.ToInt32("644", 8));
        try
        {
            var (code, stdout, stderr) = Doctor(_box!, "--json");

            Assert.That(code, Is.EqualTo(4), stderr);
            var failure = Findings(stdout).Single(f => f.Status == "fail");
            Assert.That(failure.Id, Is.EqualTo("secrets." + credential));
            Assert.That(failure.Message, Does.Contain(credential).And.Contain("0644"));
            Assert.That(failure.Fix, Is.EqualTo("chmod 600 " + credential));

            Assert.That(TestEnv.Run("/bin/sh", ["-c", failure.Fix!]).ExitCode, Is.EqualTo(0));
            Assert.That(Doctor(_box!).ExitCode, Is.EqualTo(0), "after the fix doctor passes again");
        }
        finally
        {
            File.SetUnixFileMode(credential, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Test]
    public void Json_parses_and_says_what_the_text_says_line_for_line()
    {
        var text = Doctor(_box!);
        var json = Doctor(_box!, "--json");

        Assert.That(json.ExitCode, Is.EqualTo(text.ExitCode));
        using var doc = JsonDocument.Parse(json.Stdout);
        var findings = Findings(json.Stdout);
        var lines = text.Stdout.TrimEnd('\n').Split('\n');
        var findingLines = lines.Where(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.That(findingLines, Has.Count.EqualTo(findings.Count));
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            var expected = $"  {(f.Status == "fail" ? "FAIL" : f.Status.PadRight(4))}  {f.Message}" + (f.Fix is null ? "" : $"  [fix: {f.Fix}]");
            // Job ids differ between the two runs; everything else is the same box at rest.
            Assert.That(JobId().Replace(findingLines[i], "job J"), Is.EqualTo(JobId().Replace(expected, "job J")));
        }
        Assert.That(lines.Where(l => !l.StartsWith(' ') && !l.StartsWith("doctor:", StringComparison.Ordinal)), Is.EqualTo(findings.Select(f => f.Group).Distinct()));
        var summary = doc.RootElement.GetProperty("summary");
        Assert.That(lines[^1], Is.EqualTo($"doctor: {summary.GetProperty("ok").GetInt32()} ok, {summary.GetProperty("warnings").GetInt32()} warnings, {summary.GetProperty("failures").GetInt32()} failures, {summary.GetProperty("skipped").GetInt32()} skipped"));
        Assert.That(summary.GetProperty("ok").GetInt32(), Is.EqualTo(findings.Count(f => f.Status == "ok")));
        Assert.That(doc.RootElement.GetProperty("ok").GetBoolean(), Is.EqualTo(json.ExitCode == 0));
        Assert.That(doc.RootElement.GetProperty("layout").GetString(), Is.EqualTo("development"));
    }

    [Test]
    public async Task A_webhook_bound_to_every_address_with_allow_public_bind_is_reported_public_as_a_warning()
    {
        using var box = new DevBox(TestEnv.TempDir("doctor-public"));
        await box.StartAsync("[webhook]\nlisten_address = \"0.0.0.0\"\nport = 0\nallow_public_bind = true\n[sandbox]\ntimeout_s = 20\nwarm_jobs = 0\n");

        var (code, stdout, stderr) = Doctor(box, "--json");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var bind = Findings(stdout).Single(f => f.Id == "webhook.bind");
        Assert.That(bind.Status, Is.EqualTo("warn"));
        Assert.That(bind.Message, Does.Contain("public on 0.0.0.0:").And.Contain("allow_public_bind = true").And.Contain("firewall"));
    }

    [Test]
    public void The_help_says_what_doctor_checks_and_its_exit_codes()
    {
        var (code, stdout, _) = _box!.Boxbot(["doctor", "--help"]);

        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("seccomp").And.Contain("loopback").And.Contain("allow_public_bind"));
        Assert.That(stdout, Does.Contain("Exit code 0 when nothing failed").And.Contain("4 when a check failed"));
    }

    internal static (int ExitCode, string Stdout, string Stderr) Doctor(DevBox box, params string[] args) =>
        box.Boxbot(["doctor", .. args], timeout: TimeSpan.FromMinutes(3));

    internal static List<FindingJson> Findings(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => new FindingJson(
            f.GetProperty("id").GetString()!, f.GetProperty("group").GetString()!, f.GetProperty("status").GetString()!,
            f.GetProperty("message").GetString()!, f.GetProperty("fix").GetString()))];
    }

    internal sealed record FindingJson(string Id, string Group, string Status, string Message, string? Fix);

    [GeneratedRegex("job [0-9a-f]{8,}")]
    private static partial Regex JobId();
}

/// <summary>doctor where there is no healthy box: the verdicts still come, with names, and nothing hangs.</summary>
public class DoctorWithoutABoxTests
{
    [Test]
    public void The_seccomp_verdict_fails_on_the_real_probe_run_where_fork_works()
    {
        // The probe script exactly as doctor sends it, run by plain python3 outside any sandbox: what a sandbox whose
        // filter is off would produce. The verdict must be a failure (the real sandbox's verdict is DoctorTests').
        var script = Path.Combine(TestEnv.TempDir("doctor-seccomp"), "probe.py");
        File.WriteAllText(script, SandboxProbes.SeccompProbeScript);
        try
        {
            var (exit, stdout, stderr) = TestEnv.Run("/usr/bin/python3", ["-I", script]);
            var unconfined = new SandboxRunResult
            {
                JobId = "unconfined",
                Status = exit == 0 ? "ok" : "error",
                ExitCode = exit,
                Stdout = stdout,
                Stderr = stderr,
            };

            var verdict = SandboxProbes.EvaluateSeccomp(unconfined, null, development: false);

            Assert.That(stdout, Does.Contain(SandboxProbes.ForkMarker), "fork works outside a sandbox");
            Assert.That(verdict.Status, Is.EqualTo(FindingStatus.Fail));
            Assert.That(verdict.Message, Does.Contain("seccomp filter is not enforced"));
            Assert.That(verdict.Fix, Does.Contain("systemctl stop boxbot-sandbox"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(script)!, recursive: true);
        }
    }

    [Test]
    public void An_agent_that_accepts_but_never_answers_is_a_failure_naming_it_and_doctor_still_finishes()
    {
        var home = TestEnv.TempDir("doctor-silent");
        try
        {
            Directory.CreateDirectory(Path.Combine(home, "run"));
            var socketPath = Path.Combine(home, "run", Daemons.Agent.SocketName);
            using var silent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            silent.Bind(new UnixDomainSocketEndPoint(socketPath));
            silent.Listen(8); // connections queue in the kernel; nobody ever reads or answers them

            // TestEnv.Run fails the test if doctor has not finished within the limit.
            var (code, stdout, stderr) = TestEnv.Run(TestEnv.Exe("boxbot"), ["doctor", "--json"],
                new Dictionary<string, string?> { ["BOXBOT_HOME"] = home }, TimeSpan.FromSeconds(90));

            Assert.That(code, Is.EqualTo(4), stderr);
            var findings = DoctorTests.Findings(stdout);
            var agent = findings.Single(f => f.Id == "versions.agent");
            Assert.That(agent.Status, Is.EqualTo("fail"));
            Assert.That(agent.Message, Does.Contain("agent").And.Contain(socketPath).And.Contain("no answer"));
            Assert.That(findings.Single(f => f.Id == "sandbox.seccomp").Message, Does.Contain("the agent does not answer"));
            Assert.That(findings.Single(f => f.Id == "versions.webhook").Message, Does.Contain("not reachable"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
