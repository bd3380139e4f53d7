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
        var again = Boxbot(["sandbox", "run", script, "--save-attachments", saveTo]);
        Assert.That(again.ExitCode, Is.EqualTo(1), "an existing file is never overwritten");
        Assert.That(again.Stderr, Does.Contain("report.txt is already there: not overwritten"));
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

    [TestCase("mem.py", "x = bytearray(1 << 30)\n", "memory", "256 MiB", "[sandbox] memory_mib", "--memory")]
    [TestCase("sub.py", "import subprocess\nsubprocess.run(['ls'])\n", "seccomp", "cannot start processes", "subprocess", null)]
    [TestCase("threads.py", "import threading, time\nthreading.stack_size(65536)\nwhile True:\n    threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n",
        "tasks", "64 threads", "[sandbox] max_tasks", null)]
    [TestCase("files.py", "fs = [open('/workspace/f%d' % i, 'w') for i in range(200)]\n", null, "64 open files", "[sandbox] max_open_files", null)]
    [TestCase("out.py", "import sys\nsys.stdout.write('x' * (1 << 20))\n", "output", "64 KiB", "[sandbox] output_kib", null)]
    [TestCase("imp.py", "import no_such_package_here\n", null, "approved packages", "boxbot packages request", null)]
    [TestCase("net.py", "import socket\nsocket.create_connection(('example.org', 80), timeout=2)\n", null, "no network", "network \"internet\"", "--network internet")]
    public void A_job_ended_by_a_limit_says_which_its_value_and_what_changes_it(string name, string script, string? killedBy, string value, string knob, string? option)
    {
        var path = Write(name, script);

        var (code, _, stderr) = Boxbot(["sandbox", "run", path]);
        var json = Boxbot(["sandbox", "run", path, "--json"]);

        Assert.That(code, Is.EqualTo(3), stderr);
        var summary = stderr[stderr.LastIndexOf("boxbot: job ", StringComparison.Ordinal)..];
        Assert.That(summary, Does.Contain(value).And.Contain(knob), stderr);
        if (option is not null)
        {
            Assert.That(summary, Does.Contain(option));
        }
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.That(doc.RootElement.GetProperty("killed_by").ValueKind == JsonValueKind.Null ? null : doc.RootElement.GetProperty("killed_by").GetString(),
            Is.EqualTo(killedBy), json.Stdout);
        Assert.That(doc.RootElement.GetProperty("explanation").GetString(), Does.Contain(value).And.Contain(knob));
    }

    [Test]
    public void A_job_that_ends_well_has_no_explanation()
    {
        var json = Boxbot(["sandbox", "run", Write("fine.py", "print('fine')\n"), "--json"]);

        Assert.That(json.ExitCode, Is.EqualTo(0), json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.That(doc.RootElement.GetProperty("explanation").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public void What_is_wrong_with_the_command_is_a_usage_error_named_before_any_job_runs()
    {
        var marker = Write("marker.py", "open('/workspace/x', 'w')\nprint('the job ran')\n");
        var empty = Write("empty.py", "   \n");
        var binary = Path.Combine(Home, "binary.py");
        File.WriteAllBytes(binary, [0x70, 0x72, 0x00, 0x01]);
        var latin1 = Path.Combine(Home, "latin1.py");
        File.WriteAllBytes(latin1, [0x70, 0x72, 0x69, 0x6e, 0x74, 0x28, 0x27, 0xe9, 0x27, 0x29]);
        var cases = new (string[] Args, string Says)[]
        {
            (["sandbox", "run", Home], "is a folder, not a file"),
            (["sandbox", "run", Path.Combine(Home, "missing.py")], "no such file"),
            (["sandbox", "run", empty], "is empty"),
            (["sandbox", "run", binary], "NUL byte"),
            (["sandbox", "run", latin1], "not UTF-8"),
            (["sandbox", "run", marker, "--timeout", "0"], "--timeout 0: a job's time limit is at least 1 second"),
            // The ceiling is the running sandbox's (the box runs with timeout_s = 20), said by the sandbox.
            (["sandbox", "run", marker, "--timeout", "21"], "the job's time limit must be 1 to 20 seconds ([sandbox] timeout_s = 20"),
            (["sandbox", "run", marker, "--memory", "8"], "--memory 8: a job's memory limit is at least 32 MiB"),
            (["sandbox", "run", marker, "--memory", "300"], "the job's memory limit must be 32 to 256 MiB"),
            (["sandbox", "run", marker, "--secret", "lower_case"], "--secret lower_case"),
            (["sandbox", "run", marker, "--save-attachments", Path.Combine(Home, "nowhere")], "no such folder (make it first; nothing was run)"),
            (["sandbox", "run", marker, "--timeout", "soon"], "--timeout: 'soon' is not a whole number"),
        };
        foreach (var (args, says) in cases)
        {
            var (code, stdout, stderr) = Boxbot(args);
            Assert.That(code, Is.EqualTo(2), string.Join(' ', args) + ": " + stderr);
            Assert.That(stderr, Does.Contain(says), string.Join(' ', args));
            Assert.That(stdout + stderr, Does.Not.Contain("the job ran").And.Not.Contain("boxbot: job "), string.Join(' ', args));
        }
    }

    [Test]
    public void A_script_can_come_from_stdin_and_a_dash_is_not_taken_for_a_file()
    {
        var (code, stdout, stderr) = Boxbot(["sandbox", "run", "-"], stdin: "print('from stdin')\n");

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("from stdin"));
    }

    [Test]
    public void An_accented_script_near_the_size_limit_fits_through_every_hop()
    {
        // 250 KiB of "é" (2 bytes of UTF-8 each): under the 256 KiB limit as UTF-8, but 750 KiB once JSON-escaped as
        // \u00e9, which used to overflow the 1 MiB frame between the CLI, the agent and the sandbox.
        var text = "s = '" + new string('é', 125 * 1024) + "'\nprint(len(s))\n";
        var (code, stdout, stderr) = Boxbot(["sandbox", "run", Write("accents.py", text)]);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain((125 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var tooLarge = Boxbot(["sandbox", "run", Write("large.py", "s = '" + new string('é', 130 * 1024) + "'\n")]);
        Assert.That(tooLarge.ExitCode, Is.EqualTo(2), tooLarge.Stderr);
        Assert.That(tooLarge.Stderr, Does.Contain("at most 256 KiB"));
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
