using System.Globalization;
using System.Text.RegularExpressions;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The units in systemd/ as files: one service and one socket per daemon, the settings the daemons rely on, and
/// the exposure score of `systemd-analyze security --offline=yes`, printed and recorded in docs/security.md.
/// Booting them under real systemd is the install test (tests/BoxBot.Install.Tests, `make install-test`).
/// </summary>
public sealed partial class UnitFileTests
{
    /// <summary>The issue's target for every unit.</summary>
    private const double Target = 1.5;

    private static string SystemdDir => Path.Combine(TestEnv.RepoRoot, "systemd");

    private static Dictionary<string, List<string>> Read(string file)
    {
        var settings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(file))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[')
            {
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = line[..eq];
            if (!settings.TryGetValue(key, out var values))
            {
                settings[key] = values = [];
            }
            values.Add(line[(eq + 1)..]);
        }
        return settings;
    }

    private static string One(Dictionary<string, List<string>> unit, string key) =>
        unit.TryGetValue(key, out var values) && values.Count == 1 ? values[0] : throw new AssertionException($"{key}= is not set exactly once");

    public static IEnumerable<DaemonInfo> AllDaemons => Daemons.All;

    [TestCaseSource(nameof(AllDaemons))]
    public void Each_daemon_has_a_hardened_notify_service_and_a_socket_on_its_path(DaemonInfo daemon)
    {
        var service = Read(Path.Combine(SystemdDir, InstallLayout.Service(daemon)));
        var socket = Read(Path.Combine(SystemdDir, InstallLayout.Socket(daemon)));

        Assert.That(One(service, "Type"), Is.EqualTo("notify"));
        Assert.That(One(service, "ExecStart"), Is.EqualTo("/usr/lib/boxbot/" + daemon.Executable));
        Assert.That(One(service, "User"), Is.EqualTo(InstallLayout.UnitUser(daemon)));
        Assert.That(One(service, "Requires"), Is.EqualTo(InstallLayout.Socket(daemon)));
        Assert.That(One(socket, "ListenStream"), Is.EqualTo(BoxPaths.Installed.SocketPath(daemon)));
        foreach (var (key, value) in new[]
        {
            ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
            ("MemoryDenyWriteExecute", "yes"), ("SystemCallArchitectures", "native"), ("Restart", "on-failure"),
        })
        {
            Assert.That(One(service, key), Is.EqualTo(value), key);
        }
        Assert.That(service, Does.ContainKey("WatchdogSec"));
        Assert.That(service, Does.ContainKey("SystemCallFilter"));
        Assert.That(service, Does.ContainKey("RestrictAddressFamilies"));
        Assert.That(One(service, "CapabilityBoundingSet"), Is.Empty, "no capabilities at all");
        if (daemon != Daemons.Sandbox)
        {
            Assert.That(One(service, "StateDirectory"), Is.EqualTo(daemon.StateName));
            // The plugin host's is 0750: the sandbox runner (in its group) reads the plugins it runs; mesh/ stays 0700.
            Assert.That(One(service, "StateDirectoryMode"), Is.EqualTo(daemon == Daemons.PluginHost ? "0750" : "0700"));
        }
    }

    [TestCaseSource(nameof(AllDaemons))]
    public void A_unit_sets_exactly_the_environment_dev_up_and_the_benchmarks_set(DaemonInfo daemon)
    {
        var service = Read(Path.Combine(SystemdDir, InstallLayout.Service(daemon)));
        var set = service.TryGetValue("Environment", out var values) ? values.Order(StringComparer.Ordinal).ToArray() : [];

        Assert.That(set, Is.EqualTo(InstallLayout.RuntimeEnvironment(daemon).Select(kv => $"{kv.Key}={kv.Value}").Order(StringComparer.Ordinal).ToArray()));
    }

    [TestCaseSource(nameof(AllDaemons))]
    public void A_unit_loads_exactly_the_credentials_its_daemon_reads_from_the_installed_folder(DaemonInfo daemon)
    {
        var service = Read(Path.Combine(SystemdDir, InstallLayout.Service(daemon)));
        var loaded = service.TryGetValue("LoadCredential", out var values) ? values.Order(StringComparer.Ordinal).ToArray() : [];

        var expected = Credentials.All.Where(c => c.UsedBy == daemon.Name)
            .Select(c => $"{c.Name}:{Path.Combine(BoxPaths.Installed.CredentialsDir, c.Name)}").Order(StringComparer.Ordinal).ToArray();

        Assert.That(loaded, Is.EqualTo(expected));
    }

    [Test]
    public void No_unit_runs_in_a_private_user_namespace_which_would_hide_callers_from_SO_PEERCRED()
    {
        foreach (var file in Directory.GetFiles(SystemdDir, "*.service"))
        {
            var unit = Read(file);
            Assert.That(unit.TryGetValue("PrivateUsers", out var v) ? v : ["no"], Is.All.EqualTo("no"), file);
        }
    }

    /// <summary>
    /// Every service: the five daemons', the egress proxy's (boxbot-sandbox egress, for internet jobs), the household
    /// broker's and its reload's.
    /// </summary>
    public static IEnumerable<string> AllServices => [.. Daemons.All.Select(InstallLayout.Service), InstallLayout.EgressService, .. InstallLayout.BrokerServices];

    [TestCaseSource(nameof(AllServices))]
    public void Exposure_score_is_at_most_the_target(string service)
    {
        var score = Score(Path.Combine(SystemdDir, service));
        TestContext.Out.WriteLine($"{service}: exposure {score.ToString("0.0", CultureInfo.InvariantCulture)} (systemd-analyze security --offline=yes)");

        Assert.That(score, Is.LessThanOrEqualTo(Target));
        var recorded = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "docs", "security.md"));
        Assert.That(recorded, Does.Contain($"| `{service}` | {score.ToString("0.0", CultureInfo.InvariantCulture)} |"),
            "docs/security.md records each unit's score");
    }

    private static double Score(string unit)
    {
        var analyze = File.Exists("/usr/bin/systemd-analyze") ? "/usr/bin/systemd-analyze" : "/bin/systemd-analyze";
        if (!File.Exists(analyze))
        {
            Assert.Fail("systemd-analyze is missing: scripts/install-prereqs.sh installs the systemd package");
        }
        var (_, stdout, stderr) = TestEnv.Run(analyze, ["security", "--offline=yes", "--no-pager", unit]);
        var text = stdout + stderr;
        var m = OverallRegex().Match(text);
        Assert.That(m.Success, Is.True, "no overall exposure level in: " + text);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9]+\.[0-9])")]
    private static partial Regex OverallRegex();
}
