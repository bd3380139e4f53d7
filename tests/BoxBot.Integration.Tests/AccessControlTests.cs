using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The two layers in front of a daemon's methods, attacked from another uid through the real
/// CLI: the socket's file mode and group (kernel, at connect) and the per-method SO_PEERCRED
/// policy (the daemon, per request).
/// </summary>
[Category("root")]
public class AccessControlTests
{
    private const string Intruder = "bbtest-intruder";
    private const string SocketGroup = "bbtest-sockets";
    private const string AdminGroup = "bbtest-admins";
    private string _home = "";
    private DaemonProcess? _agent;

    [SetUp]
    public async Task SetUp()
    {
        TestEnv.RequireRoot();
        TestEnv.EnsureUser(Intruder);
        // As on an installed box, the webhook's user exists before the agent starts (its policy names it).
        TestEnv.EnsureUser(Daemons.Webhook.ServiceUser);
        TestEnv.EnsureUser(Daemons.Perception.ServiceUser);
        TestEnv.EnsureGroup(SocketGroup);
        TestEnv.EnsureGroup(AdminGroup);
        _home = TestEnv.TempDir("access");
        // The folders must be traversable by the intruder so that only the socket's own mode decides.
        File.SetUnixFileMode(_home, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.Combine(_home, "run"), (UnixFileMode)0b111_101_101);
        var config = Path.Combine(_home, "boxbot.toml");
        File.WriteAllText(config, $"[box]\nadmin_group = \"{AdminGroup}\"\n[agent]\nsocket_group = \"{SocketGroup}\"\n");
        File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100);
        // The checkout may sit where the intruder cannot traverse (CI clones under /root): give it its own copy of the CLI.
        File.Copy(TestEnv.Exe("boxbot"), Path.Combine(_home, "boxbot"));
        _agent = DaemonProcess.Start(Daemons.Agent, _home);
        await _agent.WaitReadyAsync();
    }

    [TearDown]
    public void TearDown()
    {
        _agent?.Dispose();
        if (_home.Length > 0)
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Test]
    public void The_socket_is_0660_and_owned_by_the_configured_group()
    {
        var socket = _agent!.SocketPath;
        Assert.That(File.GetUnixFileMode(socket), Is.EqualTo((UnixFileMode)0b110_110_000));
        var (_, stdout, _) = TestEnv.Run("stat", ["-c", "%G", socket]);
        Assert.That(stdout.Trim(), Is.EqualTo(SocketGroup));
    }

    [Test]
    public void A_user_outside_the_socket_group_cannot_even_connect()
    {
        var agent = StatusAs();

        Assert.That(agent.GetProperty("up").GetBoolean(), Is.False);
        Assert.That(agent.GetProperty("error").GetString(), Does.Contain("ermission denied"));
        Assert.That(_agent!.Log, Does.Not.Contain("unauthorized"), "the kernel refused it before the daemon saw it");
    }

    [Test]
    public void A_user_in_the_socket_group_but_not_an_admin_is_refused_by_peer_credentials_and_logged()
    {
        var agent = StatusAs(SocketGroup);

        Assert.That(agent.GetProperty("up").GetBoolean(), Is.False);
        Assert.That(agent.GetProperty("error").GetString(), Does.Contain("refused"));
        var uid = TestEnv.IdOf("-u", Intruder).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(() => _agent!.Lines.Any(l => l.StartsWith("<4>", StringComparison.Ordinal) && l.Contains(uid, StringComparison.Ordinal) && l.Contains(SystemMethods.Status, StringComparison.Ordinal)),
            Is.True.After(5000, 50), _agent!.Log);
    }

    [Test]
    public void The_same_user_with_the_admin_group_as_a_supplementary_group_is_allowed()
    {
        var agent = StatusAs(SocketGroup, AdminGroup);

        Assert.That(agent.GetProperty("up").GetBoolean(), Is.True, agent.ToString());
        Assert.That(agent.GetProperty("pid").GetInt32(), Is.EqualTo(_agent!.Process.Id));
    }

    [Test]
    public void Only_the_webhooks_user_may_hand_the_agent_inbound_messages_not_even_an_admin()
    {
        const string Batch = """{"events":[{"key":"wamid.acl1","kind":"message","id":"wamid.acl1","from":"4915112345678","type":"text","text":"hi","timestamp":1700000000}]}""";

        var admin = CallAs(Intruder, WhatsAppMethods.Inbound, Batch, SocketGroup, AdminGroup);
        var webhook = CallAs(Daemons.Webhook.ServiceUser, WhatsAppMethods.Inbound, Batch, SocketGroup);

        Assert.That(admin.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), admin.ToString());
        Assert.That(webhook.GetProperty("result").GetProperty("acked")[0].GetString(), Is.EqualTo("wamid.acl1"), webhook.ToString());
    }

    [Test]
    public void Only_the_perception_daemons_user_may_press_the_physical_reset_not_even_an_admin()
    {
        var admin = CallAs(Intruder, UserMethods.Reset, "{}", SocketGroup, AdminGroup);
        var perception = CallAs(Daemons.Perception.ServiceUser, UserMethods.Reset, "{}", SocketGroup);

        Assert.That(admin.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), admin.ToString());
        var code = perception.GetProperty("result").GetProperty("code");
        Assert.That(code.GetProperty("kind").GetString(), Is.EqualTo("bootstrap"), perception.ToString());
        Assert.That(code.GetProperty("issued_by").GetString(), Is.EqualTo("button"));
    }

    [Test]
    public void Only_the_sandbox_may_save_skills_for_its_jobs_not_even_an_admin()
    {
        var admin = CallAs(Intruder, SdkSkillMethods.Save, """{"name":"evil","description":"d","body":"b"}""", SocketGroup, AdminGroup);

        Assert.That(admin.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), admin.ToString());
    }

    [Test]
    public void Registration_codes_are_for_the_admin_group_and_name_the_unix_user_who_asked()
    {
        var outsider = CallAs(Intruder, UserMethods.BootstrapCode, "{}", SocketGroup);
        var admin = CallAs(Intruder, UserMethods.BootstrapCode, "{}", SocketGroup, AdminGroup);

        Assert.That(outsider.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), outsider.ToString());
        var code = admin.GetProperty("result");
        Assert.That(code.GetProperty("code").GetString(), Does.Match("^[0-9]{6}$"), admin.ToString());
        Assert.That(code.GetProperty("issued_by").GetString(), Is.EqualTo("console:" + Intruder));
    }

    /// <summary>One raw JSON-RPC call on the agent's socket from a process running as <paramref name="user"/> with exactly <paramref name="groups"/>.</summary>
    private JsonElement CallAs(string user, string method, string paramsJson, params string[] groups)
    {
        const string Client = """
            import json, socket, struct, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": json.loads(sys.argv[3])}).encode()
            s.sendall(struct.pack(">I", len(body)) + body)
            def read(n):
                data = b""
                while len(data) < n:
                    chunk = s.recv(n - len(data)); assert chunk; data += chunk
                return data
            print(read(struct.unpack(">I", read(4))[0]).decode())
            """;
        var uid = TestEnv.IdOf("-u", user).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var gid = TestEnv.IdOf("-g", user).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = TestEnv.Run("setpriv", [$"--reuid={uid}", $"--regid={gid}", "--groups=" + string.Join(',', groups.Select(g => TestEnv.GroupId(g))),
            "/usr/bin/python3", "-I", "-c", Client, _agent!.SocketPath, method, paramsJson]);
        Assert.That(code, Is.EqualTo(0), stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    /// <summary>Runs `boxbot status --json` as the intruder with exactly the given supplementary groups; returns the agent's entry.</summary>
    private JsonElement StatusAs(params string[] groups)
    {
        var uid = TestEnv.IdOf("-u", Intruder).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var gid = TestEnv.IdOf("-g", Intruder).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var args = new List<string> { $"--reuid={uid}", $"--regid={gid}" };
        args.Add(groups.Length == 0 ? "--clear-groups" : "--groups=" + string.Join(',', groups.Select(g => TestEnv.GroupId(g))));
        args.AddRange([Path.Combine(_home, "boxbot"), "status", "--json"]);
        var (code, stdout, stderr) = TestEnv.Run("setpriv", args, new Dictionary<string, string?> { ["BOXBOT_HOME"] = _home });
        Assert.That(stdout, Does.StartWith("{"), $"exit {code}: {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("daemons").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "agent").Clone();
    }
}
