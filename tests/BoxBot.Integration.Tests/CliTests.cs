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
    public void Config_check_without_a_file_checks_the_layout_default_which_may_be_absent_but_a_named_file_may_not()
    {
        var (code, stdout, stderr) = Boxbot("config", "check");
        var named = Boxbot("config", "check", Path.Combine(_home, "nope.toml"), "--json");

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain(Path.Combine(_home, "boxbot.toml")).And.Contain("absent, so the built-in defaults apply"));
        Assert.That(named.ExitCode, Is.EqualTo(1));
        using var doc = JsonDocument.Parse(named.Stdout);
        var error = doc.RootElement.GetProperty("errors")[0];
        Assert.That(error.GetProperty("message").GetString(), Does.Contain("not found"));
        Assert.That((error.GetProperty("line").ValueKind, error.GetProperty("key").ValueKind), Is.EqualTo((JsonValueKind.Null, JsonValueKind.Null)));
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

    [Test]
    public void A_mistyped_command_gets_the_nearest_real_one_and_a_group_without_its_command_gets_the_list()
    {
        var typo = Boxbot("statsu");
        var nested = Boxbot("users", "lst");
        var group = Boxbot("users");
        var bare = Boxbot();

        Assert.That((typo.ExitCode, nested.ExitCode, group.ExitCode, bare.ExitCode), Is.EqualTo((2, 2, 2, 2)));
        Assert.That(typo.Stderr, Does.StartWith("boxbot: unknown command 'statsu' (did you mean 'status'?)"));
        Assert.That(nested.Stderr, Does.StartWith("boxbot: unknown command 'users lst' (did you mean 'users list'?)").And.Contain("boxbot users --help"));
        Assert.That(group.Stderr, Does.StartWith("boxbot: 'boxbot users' needs a command: list, remove, promote, demote, unblock, rename"));
        Assert.That(bare.Stderr, Does.Contain("needs a command: status, doctor"));
        foreach (var r in new[] { typo, nested, group, bare })
        {
            Assert.That(r.Stderr, Does.Not.Contain("Required command was not provided"));
        }
    }

    [Test]
    public void Help_is_a_command_too_and_names_the_same_text_as_the_option()
    {
        var help = Boxbot("help", "users", "list");
        var option = Boxbot("users", "list", "--help");
        var unknown = Boxbot("help", "userz");

        Assert.That(help.ExitCode, Is.EqualTo(0), help.Stderr);
        Assert.That(help.Stdout, Is.EqualTo(option.Stdout));
        Assert.That(Boxbot("help").Stdout, Does.Contain("Exit codes"));
        Assert.That(unknown.ExitCode, Is.EqualTo(2));
        Assert.That(unknown.Stderr, Does.Contain("did you mean 'users'?"));
    }

    [TestCase("whatsapp send --to 12 hello", "--to '12' is not a phone number in international form")]
    [TestCase("whatsapp send --to 00491512345678 hello", "--to '00491512345678' is not a phone number")]
    [TestCase("whatsapp simulate --from abc hello", "--from 'abc' is not a phone number in international form")]
    [TestCase("users promote abc", "NUMBER 'abc' is not a phone number")]
    [TestCase("sandbox run --timeout abc x.py", "--timeout: 'abc' is not a whole number")]
    [TestCase("sandbox run --timeout 0 x.py", "--timeout 0: a job's time limit is at least 1 second")]
    [TestCase("log --last -1", "--last -1")]
    [TestCase("secrets delete lower", "'lower' is not a secret name")]
    [TestCase("chat --json", "--json goes with --message")]
    [TestCase("status --bogus", "status: unknown option '--bogus'")]
    public void The_same_kind_of_mistake_is_a_usage_error_with_exit_code_2_that_names_the_argument(string command, string says)
    {
        var (code, stdout, stderr) = Boxbot(command.Split(' '));

        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain(says));
        if (command.Contains("--json", StringComparison.Ordinal))
        {
            using var doc = JsonDocument.Parse(stdout);
            Assert.That(doc.RootElement.GetProperty("error").GetProperty("kind").GetString(), Is.EqualTo("usage"));
        }
        else
        {
            Assert.That(stdout, Is.Empty);
        }
    }

    [Test]
    public void A_failing_json_command_still_prints_one_json_document_on_stdout()
    {
        var down = Boxbot("users", "list", "--json");
        var usage = Boxbot("whatsapp", "send", "--to", "12", "--json", "hi");
        var chat = Boxbot("chat", "--message", "hi", "--json");

        Assert.That(down.ExitCode, Is.EqualTo(1));
        using (var doc = JsonDocument.Parse(down.Stdout))
        {
            var error = doc.RootElement.GetProperty("error");
            Assert.That((error.GetProperty("kind").GetString(), error.GetProperty("exit_code").GetInt32()), Is.EqualTo(("unavailable", 1)));
            Assert.That(error.GetProperty("message").GetString(), Does.Contain("the agent is not running").And.Contain(Path.Combine(_home, "run", "agent.sock")));
        }
        Assert.That(usage.ExitCode, Is.EqualTo(2));
        using (var doc = JsonDocument.Parse(usage.Stdout))
        {
            Assert.That(doc.RootElement.GetProperty("error").GetProperty("kind").GetString(), Is.EqualTo("usage"));
        }
        Assert.That(chat.ExitCode, Is.EqualTo(1));
        using (var doc = JsonDocument.Parse(chat.Stdout))
        {
            Assert.That(doc.RootElement.GetProperty("outcome").GetString(), Is.EqualTo("failed"));
            Assert.That(doc.RootElement.GetProperty("error").GetString(), Does.Contain("not running"));
        }
    }

    [Test]
    public void Status_without_boxbot_home_points_at_a_development_box_in_the_current_folder()
    {
        // A development box's sockets in ./.boxbot-dev of the current folder; nothing at /run/boxbot answers as this test runs.
        var cwd = Directory.CreateDirectory(Path.Combine(_home, "checkout")).FullName;
        var run = Directory.CreateDirectory(Path.Combine(cwd, ".boxbot-dev", "run")).FullName;
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(run, "agent.sock")));
        Assume.That(Directory.Exists("/run/boxbot"), Is.False, "an installed box runs here");

        var (code, stdout, _) = TestEnv.RunIn(cwd, TestEnv.Exe("boxbot"), ["status"], new Dictionary<string, string?> { ["BOXBOT_HOME"] = "" });

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain($"export BOXBOT_HOME={Path.Combine(cwd, ".boxbot-dev")}"));
    }
}
