using System.Text.Json;

namespace BoxBot.Integration.Tests;

public class CliTests
{
    private string _home = "";

    [SetUp]
    public void SetUp() => _home = TestEnv.TempDir("cli");

    [TearDown]
    public void TearDown() => Directory.Delete(_home, recursive: true);

    private (int ExitCode, string Stdout, string Stderr) Boxbot(params string[] args) =>
        TestEnv.Run(TestEnv.Exe("boxbot"), args, new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home });

    [Test]
    public void Status_reports_every_daemon_as_down_when_nothing_runs_and_exits_1()
    {
        var (code, stdout, stderr) = Boxbot("status", "--json");

        Assert.That(code, Is.EqualTo(1), stderr);
        using var doc = JsonDocument.Parse(stdout);
        var daemons = doc.RootElement.GetProperty("daemons").EnumerateArray().ToList();
        Assert.That(daemons.Select(d => d.GetProperty("name").GetString()), Is.EquivalentTo(new[] { "agent", "sandbox", "webhook", "perception", "plugin-host" }));
        foreach (var d in daemons)
        {
            Assert.That(d.GetProperty("up").GetBoolean(), Is.False);
            Assert.That(d.GetProperty("pid").ValueKind, Is.EqualTo(JsonValueKind.Null), "keys stay present when unknown");
            Assert.That(d.GetProperty("version").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(d.GetProperty("uptime_s").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(d.GetProperty("error").GetString(), Does.Contain(d.GetProperty("socket").GetString()));
        }
        Assert.That(doc.RootElement.GetProperty("all_up").GetBoolean(), Is.False);
        Assert.That(doc.RootElement.GetProperty("layout").GetString(), Is.EqualTo("development"));
    }

    [Test]
    public void Status_as_text_names_each_daemon_and_counts_those_up()
    {
        var (code, stdout, _) = Boxbot("status");

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain("agent").And.Contain("plugin-host").And.Contain("down").And.Contain("0 of 5 daemons up"));
    }

    [Test]
    public void Version_prints_the_build_version_as_text_and_json()
    {
        var text = Boxbot("version");
        var json = Boxbot("version", "--json");

        Assert.That(text.ExitCode, Is.EqualTo(0));
        Assert.That(text.Stdout, Does.StartWith("boxbot 0."));
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.That(text.Stdout, Does.Contain(doc.RootElement.GetProperty("version").GetString()));
    }

    [Test]
    public void Config_check_accepts_a_valid_file_and_reports_each_problem_with_its_location()
    {
        var good = Path.Combine(_home, "good.toml");
        var bad = Path.Combine(_home, "bad.toml");
        File.WriteAllText(good, "[box]\nlog_level = \"debug\"\n");
        File.WriteAllText(bad, "[box]\nlog_level = \"loud\"\n[webhook]\nport = 70000\n");

        var ok = Boxbot("config", "check", good);
        var failed = Boxbot("config", "check", bad);
        var failedJson = Boxbot("config", "check", bad, "--json");

        Assert.That(ok.ExitCode, Is.EqualTo(0), ok.Stderr);
        Assert.That(ok.Stdout, Does.Contain($"{good}: ok"));
        Assert.That(failed.ExitCode, Is.EqualTo(1));
        Assert.That(failed.Stderr, Does.Contain($"{bad}:2:").And.Contain("box.log_level"));
        Assert.That(failed.Stderr, Does.Contain($"{bad}:4:").And.Contain("webhook.port"));
        using var doc = JsonDocument.Parse(failedJson.Stdout);
        Assert.That(doc.RootElement.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(doc.RootElement.GetProperty("errors").GetArrayLength(), Is.EqualTo(2));
        Assert.That(doc.RootElement.GetProperty("errors")[1].GetProperty("line").GetInt32(), Is.EqualTo(4));
    }

    [Test]
    public void Config_check_without_a_file_checks_the_layout_default_and_says_when_it_is_missing()
    {
        var (code, _, stderr) = Boxbot("config", "check");

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain(Path.Combine(_home, "boxbot.toml")).And.Contain("not found"));
    }

    [Test]
    public void Usage_errors_exit_2_and_help_is_everywhere()
    {
        Assert.That(Boxbot("frobnicate").ExitCode, Is.EqualTo(2));
        Assert.That(Boxbot("status", "--bogus").ExitCode, Is.EqualTo(2));
        foreach (var args in new[] { new[] { "--help" }, ["status", "--help"], ["config", "check", "--help"], ["dev", "up", "--help"], ["version", "--help"] })
        {
            var help = Boxbot(args);
            Assert.That(help.ExitCode, Is.EqualTo(0), string.Join(' ', args));
            Assert.That(help.Stdout, Does.Contain("Usage"), string.Join(' ', args));
        }
        Assert.That(Boxbot("--help").Stdout, Does.Contain("Exit codes"));
    }
}
