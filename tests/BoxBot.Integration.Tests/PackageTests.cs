using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// Approved packages end to end, on the published executables under `boxbot dev up` as root: `boxbot packages
/// request` → a pending approval listing the exact wheels, `boxbot approvals approve` → real pip installs exactly
/// those into the venv → a `boxbot sandbox run` job imports them read-only. Packages come from a local folder of
/// wheels built by hand (PyPI is not reachable here; the index is configured off).
/// </summary>
[Category("root")]
public class PackageTests
{
    private DevBox? _box;

    private string Home => _box!.Home;
    private string _wheels = "";
    private string _marker = "";

    private string Venv => Path.Combine(Home, "state", "boxbot-sandbox", "venv");
    private string AuditLog => Path.Combine(Home, "state", "boxbot", "packages-audit.log");

    [OneTimeSetUp]
    public async Task StartBox()
    {
        TestEnv.RequireRoot();
        _box = new DevBox(TestEnv.TempDir("packages"));
        _wheels = Directory.CreateDirectory(Path.Combine(Home, "wheels")).FullName;
        _marker = Path.Combine(Home, "sdist-code-ran");
        WheelFiles.Wheel(_wheels, "bbdemo", "1.0", new Dictionary<string, string>
        {
            ["bbdemo/__init__.py"] = "from bbdep import VALUE\n\ndef answer():\n    return 40 + VALUE\n",
        }, "bbdep>=1");
        WheelFiles.Wheel(_wheels, "bbdep", "1.2", new Dictionary<string, string> { ["bbdep/__init__.py"] = "VALUE = 2\n" });
        foreach (var name in new[] { "bbdenied", "bbswap", "bbsolo" })
        {
            WheelFiles.Wheel(_wheels, name, "1.0", new Dictionary<string, string> { [$"{name}/__init__.py"] = "GOOD = True\n" });
        }
        WheelFiles.SdistRunningCodeAtBuild(_wheels, "bbsdist", "1.0", _marker);
        // Only reachable through pip's own environment variables, which the agent must not hand down to pip.
        var elsewhere = Directory.CreateDirectory(Path.Combine(Home, "env-wheels")).FullName;
        WheelFiles.Wheel(elsewhere, "bbenvonly", "1.0", new Dictionary<string, string> { ["bbenvonly/__init__.py"] = "" });

        await _box.StartAsync($"[webhook]\nport = 0\n[sandbox]\ntimeout_s = 20\n[agent]\npackage_index_url = \"\"\npackage_find_links = \"{_wheels}\"\n",
            new Dictionary<string, string> { ["PIP_FIND_LINKS"] = elsewhere });
    }

    [OneTimeTearDown]
    public void StopBox() => _box?.Dispose();

    [Test]
    public void A_requested_package_waits_uninstalled_and_once_approved_a_job_imports_it_with_its_dependency_but_cannot_change_it()
    {
        var request = Boxbot(["packages", "request", "bbdemo==1.0", "--reason", "for the demo script", "--json"]);
        Assert.That(request.ExitCode, Is.EqualTo(0), request.Stderr);
        var approval = Parse(request.Stdout);
        var id = approval.GetProperty("id").GetString()!;
        Assert.That(approval.GetProperty("state").GetString(), Is.EqualTo("pending"));
        Assert.That(Packages(approval), Is.EquivalentTo(new[]
        {
            ("bbdemo", "1.0", Sha("bbdemo-1.0"), true),
            ("bbdep", "1.2", Sha("bbdep-1.2"), false),
        }), "the dependency is resolved and listed, each wheel with the sha256 of its file");
        Assert.That(Installed(), Does.Not.Contain("bbdemo").And.Not.Contain("bbdep"), "nothing is installed before a human approves");
        var before = Boxbot(["sandbox", "run", Write("early.py", "import bbdemo\n")]);
        Assert.That(before.Stderr, Does.Contain("No module named 'bbdemo'"));
        var show = Boxbot(["approvals", "show", id]);
        Assert.That(show.Stdout, Does.Contain("bbdep 1.2 (dependency)").And.Contain("sha256:" + Sha("bbdemo-1.0")).And.Contain("for the demo script"));

        var approve = Boxbot(["approvals", "approve", id], TimeSpan.FromMinutes(3));

        Assert.That(approve.ExitCode, Is.EqualTo(0), approve.Stderr);
        Assert.That(approve.Stdout, Does.Contain($"approval {id}: installed bbdemo 1.0, bbdep 1.2"));
        Assert.That(Installed(), Does.Contain("bbdemo 1.0").And.Contain("bbdep 1.2"));
        var events = Audit(id);
        Assert.That(events.Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "requested", "approved", "installed" }));
        var installed = events[^1];
        Assert.That(installed.GetProperty("decided_by").GetString(), Is.EqualTo("console:root"));
        Assert.That(installed.GetProperty("requested_by").GetString(), Is.EqualTo("console:root"));
        Assert.That(installed.GetProperty("packages").EnumerateArray().Select(p => (p.GetProperty("name").GetString(), p.GetProperty("sha256").GetString())),
            Is.EquivalentTo(new[] { ("bbdemo", Sha("bbdemo-1.0")), ("bbdep", Sha("bbdep-1.2")) }));
        Assert.That(_box!.Dev.Log, Does.Contain($"approval {id}: installed bbdemo==1.0, bbdep==1.2"));
        AssertNothingInTheVenvIsWritableByOthers();

        var job = Boxbot(["sandbox", "run", Write("use.py", """
            import errno, os, bbdemo
            print("answer", bbdemo.answer(), bbdemo.__file__)
            pkg = os.path.dirname(bbdemo.__file__)
            for attempt in (lambda: open(os.path.join(pkg, "__init__.py"), "a"),
                            lambda: open(os.path.join(os.path.dirname(pkg), "evil.pth"), "w"),
                            lambda: os.chmod(pkg, 0o777)):
                try:
                    attempt()
                    print("changed")
                except OSError as e:
                    print("refused", errno.errorcode[e.errno])
            """)]);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Stderr);
        Assert.That(job.Stdout, Does.Contain("answer 42 /opt/boxbot/venv/lib/python3."));
        Assert.That(job.Stdout, Does.Not.Contain("changed"));
        Assert.That(job.Stdout.Split('\n').Count(l => l.StartsWith("refused E", StringComparison.Ordinal)), Is.EqualTo(3), job.Stdout);
    }

    [Test]
    public void A_denied_request_installs_nothing_and_cannot_be_approved_afterwards()
    {
        var id = RequestPending("bbdenied");

        var deny = Boxbot(["approvals", "deny", id]);
        var approve = Boxbot(["approvals", "approve", id]);

        Assert.That(deny.ExitCode, Is.EqualTo(0), deny.Stderr);
        Assert.That(approve.ExitCode, Is.EqualTo(1));
        Assert.That(approve.Stderr, Does.StartWith("boxbot: refused: approval ").And.Contain("is denied"));
        Assert.That(Installed(), Does.Not.Contain("bbdenied"));
        Assert.That(File.Exists(Path.Combine(SitePackagesOrNone(), "bbdenied", "__init__.py")), Is.False);
        Assert.That(Audit(id).Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "requested", "denied" }));
        Assert.That(Boxbot(["approvals", "list", "--all"]).Stdout, Does.Match($"{id} +denied"));
    }

    [Test]
    public void A_wheel_swapped_after_the_request_is_refused_at_approval_by_its_hash_and_the_failure_is_audited()
    {
        var id = RequestPending("bbswap");
        var approvedHash = Sha("bbswap-1.0");
        // Same name, same version, different bytes: what a compromised mirror or a replaced file looks like.
        WheelFiles.Wheel(_wheels, "bbswap", "1.0", new Dictionary<string, string>
        {
            ["bbswap/__init__.py"] = "GOOD = False\n",
            ["bbswap/payload.py"] = "import os\nos.system('id')\n",
        });
        Assert.That(Sha("bbswap-1.0"), Is.Not.EqualTo(approvedHash));

        var approve = Boxbot(["approvals", "approve", id], TimeSpan.FromMinutes(3));

        Assert.That(approve.ExitCode, Is.EqualTo(1), approve.Stdout);
        Assert.That(approve.Stderr, Does.Contain("failed: hash mismatch").And.Contain(approvedHash));
        Assert.That(Installed(), Does.Not.Contain("bbswap"));
        Assert.That(Directory.Exists(Path.Combine(SitePackagesOrNone(), "bbswap")), Is.False, "nothing of it reached the venv");
        var failed = Audit(id)[^1];
        Assert.That(failed.GetProperty("event").GetString(), Is.EqualTo("failed"));
        Assert.That(failed.GetProperty("error").GetString(), Does.Contain("hash mismatch"));
        Assert.That(Parse(Boxbot(["approvals", "show", id, "--json"]).Stdout).GetProperty("state").GetString(), Is.EqualTo("failed"));
    }

    [Test]
    public void A_package_that_exists_only_as_source_is_refused_at_request_and_none_of_its_code_runs()
    {
        var request = Boxbot(["packages", "request", "bbsdist"]);

        Assert.That(File.Exists(_marker), Is.False, "the sdist's build backend never ran");
        Assert.That(request.ExitCode, Is.EqualTo(1), request.Stdout);
        // pip alone says "from versions: none"; the agent asks it why and says so.
        Assert.That(request.Stderr, Does.StartWith("boxbot: refused: no installable wheel for bbsdist: only source distributions were found (bbsdist-")
            .And.Contain("building one runs the package's own code"));
        Assert.That(Boxbot(["approvals", "list", "--all"]).Stdout, Does.Not.Contain("bbsdist"));
    }

    [Test]
    public void Pip_settings_in_the_agents_own_environment_do_not_reach_pip()
    {
        var request = Boxbot(["packages", "request", "bbenvonly"]);

        Assert.That(request.ExitCode, Is.EqualTo(1), request.Stdout);
        Assert.That(request.Stderr, Does.Contain("No matching distribution found for bbenvonly"));
    }

    [Test]
    public void A_spec_that_is_a_pip_option_is_refused_by_the_agent()
    {
        var request = Boxbot(["packages", "request", "--", "-r/etc/passwd", "--index-url=http://127.0.0.1:9/simple"]);

        Assert.That(request.ExitCode, Is.EqualTo(2), "a usage error, whoever noticed it");
        Assert.That(request.Stderr, Does.Contain("'-r/etc/passwd' is not a package requirement").And.Not.Contain("invalid params"));
    }

    [Test]
    public void A_uid_outside_the_admin_group_can_neither_request_nor_approve()
    {
        var id = RequestPending("bbsolo");
        const string Intruder = "bbtest-intruder";
        TestEnv.EnsureUser(Intruder);
        // Open the file-mode layer on purpose, so that only the agent's per-method peer-credential check stands in the way.
        var socket = Path.Combine(Home, "run", Daemons.Agent.SocketName);
        File.SetUnixFileMode(socket, (UnixFileMode)0b110_110_110);
        File.SetUnixFileMode(Home, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(Home, "run"), (UnixFileMode)0b111_101_101);
        var client = Write("client.py", """
            import json, socket, struct, sys
            for method, params in ((sys.argv[2], json.loads(sys.argv[3])),):
                s = socket.socket(socket.AF_UNIX)
                s.connect(sys.argv[1])
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
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

        foreach (var (method, parameters) in new[] { (ApprovalMethods.Approve, $"{{\"id\": \"{id}\"}}"), (PackageMethods.Request, "{\"specs\": [\"bbsolo\"]}") })
        {
            var (code, stdout, stderr) = TestEnv.Run("setpriv", [$"--reuid={uid}", $"--regid={gid}", "--clear-groups", "/usr/bin/python3", "-I", client, socket, method, parameters]);

            Assert.That(code, Is.EqualTo(0), stderr);
            using var reply = JsonDocument.Parse(stdout);
            Assert.That(reply.RootElement.TryGetProperty("error", out var error), Is.True, $"{method} was not refused: {stdout}");
            Assert.That(error.GetProperty("code").GetInt32(), Is.EqualTo(RpcErrorCodes.Unauthorized), stdout);
            Assert.That(() => _box!.Dev.Lines.Any(l => l.Contains(method, StringComparison.Ordinal) && l.Contains(uid, StringComparison.Ordinal)), Is.True.After(5000, 50));
        }
        Assert.That(Parse(Boxbot(["approvals", "show", id, "--json"]).Stdout).GetProperty("state").GetString(), Is.EqualTo("pending"));
        Assert.That(Installed(), Does.Not.Contain("bbsolo"));
        Assert.That(Audit(id).Select(e => e.GetProperty("event").GetString()), Is.EqualTo(new[] { "requested" }));
    }

    private string RequestPending(string spec)
    {
        var request = Boxbot(["packages", "request", spec, "--json"]);
        Assert.That(request.ExitCode, Is.EqualTo(0), request.Stderr);
        var approval = Parse(request.Stdout);
        Assert.That(approval.GetProperty("state").GetString(), Is.EqualTo("pending"));
        return approval.GetProperty("id").GetString()!;
    }

    private string Installed()
    {
        var list = Boxbot(["packages", "list"]);
        Assert.That(list.ExitCode, Is.EqualTo(0), list.Stderr);
        return list.Stdout;
    }

    private string SitePackagesOrNone() =>
        Directory.Exists(Path.Combine(Venv, "lib")) ? Directory.GetDirectories(Path.Combine(Venv, "lib")).Single() + "/site-packages" : "/nonexistent";

    private void AssertNothingInTheVenvIsWritableByOthers()
    {
        const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        foreach (var entry in new DirectoryInfo(Venv).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (entry.LinkTarget is null)
            {
                Assert.That(entry.UnixFileMode & OthersWrite, Is.EqualTo((UnixFileMode)0), entry.FullName);
                Assert.That(entry.UnixFileMode & UnixFileMode.OtherRead, Is.EqualTo(UnixFileMode.OtherRead), entry.FullName);
            }
        }
    }

    /// <summary>The audit lines of one approval, in order.</summary>
    private List<JsonElement> Audit(string id) =>
        [.. File.ReadAllLines(AuditLog).Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("approval").GetString() == id)];

    private static (string?, string?, string?, bool)[] Packages(JsonElement approval) =>
        [.. approval.GetProperty("packages").EnumerateArray().Select(p =>
            (p.GetProperty("name").GetString(), p.GetProperty("version").GetString(), p.GetProperty("sha256").GetString(), p.GetProperty("requested").GetBoolean()))];

    private string Sha(string nameVersion) => WheelFiles.Sha256Of(Path.Combine(_wheels, nameVersion + "-py3-none-any.whl"));

    private static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private string Write(string name, string text) => _box!.Write(name, text);

    private (int ExitCode, string Stdout, string Stderr) Boxbot(IEnumerable<string> args, TimeSpan? timeout = null) => _box!.Boxbot(args, timeout: timeout);
}
