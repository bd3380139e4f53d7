using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The whole path an admin uses: `boxbot secrets` and `boxbot sandbox run` → agent → sandbox →
/// a confined python3, on the published executables under `boxbot dev up` (root: jobs drop to the
/// sandbox user, which dev up creates).
/// </summary>
[Category("root")]
public class SandboxPathTests
{
    private const string SecretValue = "hunter2-integration-secret";
    private DevBox? _box;

    private string Home => _box!.Home;

    [OneTimeSetUp]
    public async Task StartBox()
    {
        TestEnv.RequireRoot();
        _box = new DevBox(TestEnv.TempDir("sandbox-path"));
        await _box.StartAsync("[webhook]\nport = 0\n[sandbox]\ntimeout_s = 20\n");
        var set = Boxbot(["secrets", "set", "DEMO_KEY"], stdin: SecretValue + "\n");
        Assert.That(set.ExitCode, Is.EqualTo(0), set.Stderr);
    }

    [OneTimeTearDown]
    public void StopBox() => _box?.Dispose();

    [Test]
    public void A_script_gets_exactly_the_secret_it_names_and_runs_as_the_job_user()
    {
        var script = Write("ok.py", """
            import os, hashlib, threading
            v = os.environ["BOXBOT_SECRET_DEMO_KEY"]
            print("sha", hashlib.sha256(v.encode()).hexdigest())
            print("uid", os.getuid())
            print("others", sorted(k for k in os.environ if k.startswith("BOXBOT_SECRET_") and k != "BOXBOT_SECRET_DEMO_KEY"))
            t = threading.Thread(target=print, args=("thread",)); t.start(); t.join()
            """);

        var (code, stdout, stderr) = Boxbot(["sandbox", "run", script, "--secret", "DEMO_KEY"]);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("sha " + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SecretValue)))));
        Assert.That(stdout, Does.Contain("uid " + UnixAccounts.LookupUid("boxbot-sandbox")));
        Assert.That(stdout, Does.Contain("others []").And.Contain("thread"));
        Assert.That(stderr, Does.Contain(": ok after"));
    }

    [Test]
    public void A_forking_script_is_killed_by_seccomp_and_the_json_result_says_so_with_exit_code_3()
    {
        var script = Write("fork.py", "import os\nos.fork()\nprint('survived')\n");

        var (code, stdout, stderr) = Boxbot(["sandbox", "run", script, "--json"]);

        Assert.That(code, Is.EqualTo(3), stderr);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.That(r.GetProperty("status").GetString(), Is.EqualTo("killed"));
        Assert.That(r.GetProperty("killed_by").GetString(), Is.EqualTo("seccomp"));
        Assert.That(r.GetProperty("stdout").GetString(), Does.Not.Contain("survived"));
        foreach (var key in new[] { "exit_code", "syscall", "stderr", "stdout_truncated", "stderr_truncated", "duration_ms", "sdk_calls", "attachments" })
        {
            Assert.That(r.TryGetProperty(key, out _), Is.True, key);
        }
    }

    [Test]
    public void A_script_stores_a_secret_through_the_sdk_that_it_can_use_but_never_read_back()
    {
        var script = Write("sdk.py", """
            import bb
            bb.secrets.store("FROM_JOB", "value-from-job")
            print("has", bb.secrets.has("FROM_JOB"), "listed", "FROM_JOB" in bb.secrets.list())
            print("readable", any(hasattr(bb.secrets, n) for n in ("get", "read", "value")))
            """);

        var (code, stdout, stderr) = Boxbot(["sandbox", "run", script, "--json"]);

        Assert.That(code, Is.EqualTo(0), stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.That(doc.RootElement.GetProperty("stdout").GetString(), Does.Contain("has True listed True").And.Contain("readable False"));
        Assert.That(doc.RootElement.GetProperty("sdk_calls").GetInt32(), Is.EqualTo(3));
        Assert.That(Boxbot(["secrets", "list"]).Stdout, Does.Contain("FROM_JOB"));
        var use = Write("use.py", "import os\nprint(len(os.environ['BOXBOT_SECRET_FROM_JOB']))\n");
        Assert.That(Boxbot(["sandbox", "run", use, "--secret", "FROM_JOB"]).Stdout, Does.Contain("14"));
        Assert.That(_box!.Dev.Log, Does.Not.Contain("value-from-job"));
    }

    [Test]
    public void An_attached_file_comes_back_as_captured_and_can_be_saved_without_overwriting()
    {
        var script = Write("attach.py", """
            import bb
            open("/workspace/report.txt", "w").write("first version")
            print(bb.output.attach("report.txt"))
            open("/workspace/report.txt", "w").write("changed afterwards")
            try:
                bb.output.attach("../../etc/passwd")
            except bb.SdkError as e:
                print("refused", e)
            """);
        var saveTo = Directory.CreateDirectory(Path.Combine(Home, "saved")).FullName;

        var json = Boxbot(["sandbox", "run", script, "--json"]);
        var text = Boxbot(["sandbox", "run", script, "--save-attachments", saveTo]);

        Assert.That(json.ExitCode, Is.EqualTo(0), json.Stderr + json.Stdout);
        using var doc = JsonDocument.Parse(json.Stdout);
        var attachments = doc.RootElement.GetProperty("attachments").EnumerateArray().ToList();
        Assert.That(attachments, Has.Count.EqualTo(1));
        Assert.That(attachments[0].GetProperty("name").GetString(), Is.EqualTo("report.txt"));
        Assert.That(Encoding.UTF8.GetString(attachments[0].GetProperty("content").GetBytesFromBase64()), Is.EqualTo("first version"));
        Assert.That(doc.RootElement.GetProperty("stdout").GetString(), Does.Contain("refused"));
        Assert.That(text.ExitCode, Is.EqualTo(0), text.Stderr);
        Assert.That(File.ReadAllText(Path.Combine(saveTo, "report.txt")), Is.EqualTo("first version"));
        Assert.That(Boxbot(["sandbox", "run", script, "--save-attachments", saveTo]).ExitCode, Is.EqualTo(1), "an existing file is never overwritten");
    }

    [Test]
    public void A_script_naming_an_unknown_secret_is_refused_before_it_runs()
    {
        var script = Write("nope.py", "print('ran')\n");

        var (code, stdout, stderr) = Boxbot(["sandbox", "run", script, "--secret", "NOT_STORED"]);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Does.Not.Contain("ran"));
        Assert.That(stderr, Does.Contain("NOT_STORED"));
    }

    [Test]
    public void Secret_values_are_listed_by_name_only_and_never_reach_a_log()
    {
        var (code, stdout, _) = Boxbot(["secrets", "list", "--json"]);

        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("DEMO_KEY").And.Not.Contain(SecretValue));
        Assert.That(_box!.Dev.Log, Does.Contain("DEMO_KEY").And.Not.Contain(SecretValue));
        var store = Path.Combine(Home, "state", "boxbot", "secrets.json");
        Assert.That(File.GetUnixFileMode(store), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void The_sandbox_socket_refuses_sandbox_run_from_any_uid_but_the_agents()
    {
        const string Intruder = "bbtest-intruder";
        TestEnv.EnsureUser(Intruder);
        // Open the file-mode layer on purpose (the access tests cover it), so that only the daemon's
        // per-method peer-credential check stands between this uid and sandbox.run.
        var socket = Path.Combine(Home, "run", Daemons.Sandbox.SocketName);
        File.SetUnixFileMode(socket, (UnixFileMode)0b110_110_110);
        File.SetUnixFileMode(Home, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(Home, "run"), (UnixFileMode)0b111_101_101);
        var client = Write("client.py", """
            import json, socket, struct, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sandbox.run", "params": {"script": "print('ran')"}}).encode()
            s.sendall(struct.pack(">I", len(body)) + body)
            n = struct.unpack(">I", s.recv(4))[0]
            data = b""
            while len(data) < n:
                data += s.recv(n - len(data))
            print(data.decode())
            """);
        File.SetUnixFileMode(client, (UnixFileMode)0b110_100_100);
        var uid = TestEnv.IdOf("-u", Intruder).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var gid = TestEnv.IdOf("-g", Intruder).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (code, stdout, stderr) = TestEnv.Run("setpriv", [$"--reuid={uid}", $"--regid={gid}", "--clear-groups", "/usr/bin/python3", "-I", client, socket]);

        Assert.That(code, Is.EqualTo(0), stderr);
        using var reply = JsonDocument.Parse(stdout);
        Assert.That(reply.RootElement.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), stdout);
        Assert.That(() => _box!.Dev.Lines.Any(l => l.Contains("sandbox.run", StringComparison.Ordinal) && l.Contains(uid, StringComparison.Ordinal)), Is.True.After(5000, 50));
    }

    private string Write(string name, string text) => _box!.Write(name, text);

    private (int ExitCode, string Stdout, string Stderr) Boxbot(IEnumerable<string> args, string? stdin = null) => _box!.Boxbot(args, stdin);
}
