using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using BoxBot.Sandbox.Internal;
using BoxBot.Sandbox.Sdk;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>The bb SDK in real jobs: real python3 through the real runner and launcher, an in-memory agent behind it.</summary>
[Category("root")]
public sealed class SdkJobTests
{
    /// <summary>The agent's side, in memory; records every call it receives (with names, never values).</summary>
    private sealed class FakeHost : ISdkHost
    {
        public ConcurrentDictionary<string, string> Secrets { get; } = new();
        public ConcurrentQueue<string> Calls { get; } = new();

        public ValueTask StoreSecretAsync(string name, string value, CancellationToken ct)
        {
            Calls.Enqueue("store " + name);
            Secrets[name] = value;
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<string>> ListSecretsAsync(CancellationToken ct)
        {
            Calls.Enqueue("list");
            return ValueTask.FromResult<IReadOnlyList<string>>([.. Secrets.Keys.Order(StringComparer.Ordinal)]);
        }

        public ValueTask<bool> HasSecretAsync(string name, CancellationToken ct)
        {
            Calls.Enqueue("has " + name);
            return ValueTask.FromResult(Secrets.ContainsKey(name));
        }

        public ValueTask<bool> DeleteSecretAsync(string name, CancellationToken ct)
        {
            Calls.Enqueue("delete " + name);
            return ValueTask.FromResult(Secrets.TryRemove(name, out _));
        }
    }

    [Test]
    public async Task Secrets_store_list_has_delete_reach_the_host_and_no_value_ever_comes_back()
    {
        var host = new FakeHost();
        host.Secrets["EXISTING"] = "old-value-5521";
        const string script = """
            import bb
            bb.secrets.store("API_TOKEN", "tok-value-8841")
            print("list", bb.secrets.list())
            print("has", bb.secrets.has("API_TOKEN"), bb.secrets.has("MISSING"))
            print("deleted", bb.secrets.delete("EXISTING"))
            print("no get", hasattr(bb.secrets, "get"))
            try:
                bb._channel.call("secrets.get", {"name": "API_TOKEN"})
            except bb.SdkError as e:
                print("get", e.code)
            try:
                bb.secrets.store("lower", "x")
            except bb.SdkError as e:
                print("bad name", e.code)
            """;
        var r = await Jobs.RunAsync(script, sdk: host);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(host.Calls, Is.EqualTo(new[] { "store API_TOKEN", "list", "has API_TOKEN", "has MISSING", "delete EXISTING" }));
        Assert.That(host.Secrets, Is.EquivalentTo(new Dictionary<string, string> { ["API_TOKEN"] = "tok-value-8841" }));
        Assert.That(r.SdkCalls, Is.EqualTo(7), "5 that reached the host, secrets.get and the refused name");
        Assert.That(r.Stdout, Is.EqualTo(
            "list ['API_TOKEN', 'EXISTING']\nhas True False\ndeleted True\nno get False\nget -32601\nbad name -32602\n"));
        Assert.That(r.Stdout + r.Stderr, Does.Not.Contain("old-value-5521"));
        Assert.That(r.Attachments, Is.Empty);
    }

    [Test]
    public async Task An_attached_file_comes_back_with_the_bytes_it_had_when_attached()
    {
        const string script = """
            import bb
            with open("out.txt", "wb") as f:
                f.write(b"report \x00\xff line\n")
            print(bb.output.attach("out.txt"))
            with open("out.txt", "wb") as f:
                f.write(b"overwritten")
            print(bb.output.attach("/workspace/out.txt"))
            print(bb.workspace.path())
            """;
        var r = await Jobs.RunAsync(script, sdk: new FakeHost());
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("out.txt\nout-2.txt\n/workspace\n"));
        Assert.That(r.Attachments.Select(a => a.Name), Is.EqualTo(new[] { "out.txt", "out-2.txt" }));
        Assert.That(r.Attachments[0].Content, Is.EqualTo((byte[])[.. Encoding.ASCII.GetBytes("report "), 0, 0xff, .. Encoding.ASCII.GetBytes(" line\n")]));
        Assert.That(Encoding.UTF8.GetString(r.Attachments[1].Content), Is.EqualTo("overwritten"));
        Assert.That(r.SdkCalls, Is.EqualTo(2), "workspace.path is answered locally from BOXBOT_WORKSPACE");
    }

    [Test]
    public async Task Attaching_a_path_outside_the_workspace_or_a_symlink_is_refused_inside_the_job()
    {
        const string script = """
            import os, bb
            os.symlink("/etc/ld.so.cache", "link")
            with open("real.txt", "w") as f:
                f.write("x")
            os.symlink("real.txt", "inner-link")
            for p in ["../../etc/passwd", "/etc/ld.so.cache", "link", "inner-link", "/workspace", "missing.txt"]:
                try:
                    bb.output.attach(p)
                    print(p, "ATTACHED")
                except bb.SdkError as e:
                    print(p, e.code)
            """;
        var r = await Jobs.RunAsync(script, sdk: new FakeHost());
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Not.Contain("ATTACHED"));
        foreach (var p in (string[])["../../etc/passwd", "/etc/ld.so.cache", "link", "inner-link", "/workspace", "missing.txt"])
        {
            Assert.That(r.Stdout, Does.Contain(p + " -32010\n"), r.Stdout);
        }
        Assert.That(r.Attachments, Is.Empty);
    }

    [Test]
    public async Task A_forged_sdk_line_on_stdout_or_stderr_reaches_nothing()
    {
        var host = new FakeHost();
        const string script = """
            import sys
            line = '{"jsonrpc":"2.0","id":1,"method":"secrets.store","params":{"name":"FORGED","value":"x"}}'
            print(line)
            print(line, file=sys.stderr)
            """;
        var r = await Jobs.RunAsync(script, sdk: host);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("FORGED"));
        Assert.That(host.Calls, Is.Empty);
        Assert.That(r.SdkCalls, Is.EqualTo(0));
    }

    [Test]
    public async Task Without_a_host_bb_imports_but_every_call_raises_not_in_a_job()
    {
        const string script = """
            import os, bb
            print("fd", os.environ.get("BOXBOT_SDK_FD"), sorted(os.listdir("/proc/self/fd")))
            print("workspace", bb.workspace.path())
            for call in [bb.secrets.list, lambda: bb.secrets.store("A", "b"), lambda: bb.output.attach("main.py")]:
                try:
                    call()
                    print("CALLED")
                except bb.SdkError as e:
                    print("error", e.code)
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("fd None ['0', '1', '2', '3']\nworkspace /workspace\nerror -32050\nerror -32050\nerror -32050\n"));
        Assert.That((r.SdkCalls, r.Attachments.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public async Task The_runtime_is_read_only_and_the_sdk_socket_is_out_of_reach()
    {
        var host = new FakeHost();
        var jobsDir = SandboxFixture.Options("jobs").JobsDir;
        var script = $$"""
            import os, stat, bb
            def err(f):
                try:
                    f(); return "WORKED"
                except OSError as e:
                    return type(e).__name__ + " " + str(e.errno)
            print("write runtime", err(lambda: open("/opt/boxbot/runtime/x.py", "w")))
            print("append bb", err(lambda: open("/opt/boxbot/runtime/bb/__init__.py", "a")))
            print("mkdir opt", err(lambda: os.mkdir("/opt/evil")))
            print("jobs dir", os.path.exists("{{jobsDir}}"))
            sockets = []
            for top in ["/workspace", "/opt", "/dev", "/etc", "/"]:
                for dirpath, dirs, files in os.walk(top):
                    if dirpath == "/":
                        dirs[:] = [d for d in dirs if d not in ("proc", "usr", "lib", "lib64")]
                    for name in files:
                        if stat.S_ISSOCK(os.lstat(os.path.join(dirpath, name)).st_mode):
                            sockets.append(os.path.join(dirpath, name))
            print("sockets", sockets)
            fd3 = os.fstat(3)
            print("fd3 socket", stat.S_ISSOCK(fd3.st_mode), os.environ["BOXBOT_SDK_FD"])
            print("fds", sorted(os.listdir("/proc/self/fd")))
            print("still works", bb.secrets.has("X"))
            """;
        var r = await Jobs.RunAsync(script, sdk: host);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("write runtime OSError 30\n").Or.Contain("write runtime PermissionError 13\n"));
        Assert.That(r.Stdout, Does.Contain("append bb OSError 30\n").Or.Contain("append bb PermissionError 13\n"));
        Assert.That(r.Stdout, Does.Contain("mkdir opt OSError 30\n").Or.Contain("mkdir opt PermissionError 13\n"));
        Assert.That(r.Stdout, Does.Contain("jobs dir False\n"));
        Assert.That(r.Stdout, Does.Contain("sockets []\n"));
        Assert.That(r.Stdout, Does.Contain("fd3 socket True 3\n"));
        Assert.That(r.Stdout, Does.Contain("fds ['0', '1', '2', '3', '4']\n"), "stdio, the SDK socket and listdir's own descriptor");
        Assert.That(r.Stdout, Does.Contain("still works False\n"));
        Assert.That(host.Calls, Is.EqualTo(new[] { "has X" }));
    }

    [Test]
    public async Task A_job_killed_mid_session_ends_the_session_and_keeps_what_was_attached()
    {
        const string script = """
            import bb, time
            open("a.txt", "w").write("first")
            bb.output.attach("a.txt")
            print("attached", flush=True)
            time.sleep(30)
            """;
        var r = await Jobs.RunAsync(script, sdk: new FakeHost(), timeout: TimeSpan.FromSeconds(2));
        Assert.That((r.Status, r.KilledBy), Is.EqualTo(("killed", (string?)"timeout")), Jobs.Describe(r));
        Assert.That(r.Attachments.Select(a => Encoding.UTF8.GetString(a.Content)), Is.EqualTo(new[] { "first" }));
        Assert.That(r.DurationMs, Is.LessThan(10_000));
    }

    [Test]
    public async Task A_launcher_that_cannot_reach_the_sdk_socket_fails_closed_and_the_script_never_runs()
    {
        var jobUser = BoxBot.Linux.UnixAccounts.LookupUser(SandboxFixture.JobUser)!.Value;
        var dir = Directory.CreateTempSubdirectory("boxbot-sdk-launch-").FullName;
        try
        {
            Directory.CreateDirectory(dir + "/workspace");
            Directory.CreateDirectory(dir + "/root");
            var spec = new JobSpec
            {
                JobId = "0000000000000000",
                WorkspaceHost = dir + "/workspace",
                WorkspaceBytes = 1 << 20,
                Script = "print('RAN')",
                RootHost = dir + "/root",
                Interpreter = "/usr/bin/python3",
                Argv = ["python3", "-I", "/workspace/main.py"],
                Environment = new Dictionary<string, string>(),
                ReadOnlyBinds = ["/usr", "/lib", "/lib64"],
                Uid = jobUser.Uid,
                Gid = jobUser.Gid,
                CpuSeconds = 5,
                AddressSpaceBytes = 256L << 20,
                MaxTasks = 16,
                MaxOpenFiles = 32,
                MaxFileBytes = 1 << 20,
                SdkSocket = dir + "/no-such.sock",
            };
            using var process = JobProcess.Start(SandboxFixture.LauncherPath, spec, dir, 65536);
            var outcome = await process.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            var stderr = Encoding.UTF8.GetString(outcome.Stderr);
            Assert.That(outcome.ExitCode, Is.EqualTo(JobLauncher.SetupFailedExitCode), stderr);
            Assert.That(stderr, Does.StartWith("boxbot-sandbox exec: setup failed: sdk channel: connect " + dir + "/no-such.sock"));
            Assert.That(Encoding.UTF8.GetString(outcome.Stdout), Does.Not.Contain("RAN"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task The_sdk_socket_takes_one_connection_and_refuses_a_peer_that_is_not_the_runners_uid()
    {
        var dir = Directory.CreateTempSubdirectory("boxbot-sdk-peer-").FullName;
        try
        {
            // Opened up on purpose (a job folder is 0700 root): here the uid check is the only thing in the way.
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            var host = new FakeHost();
            using var channel = SdkChannel.Open(dir, dir, "/workspace", null, host, attachNow: true, NullLogger.Instance, "peer-test", CancellationToken.None);
            File.SetUnixFileMode(channel.SocketPath, (UnixFileMode)0b111_111_111);
            var client = $$$"""
                import socket
                s = socket.socket(socket.AF_UNIX)
                s.connect("{{{channel.SocketPath}}}")
                try:
                    # The runner may close the connection before or after these bytes arrive.
                    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"secrets.store","params":{"name":"EVIL","value":"x"}}\n')
                    print("reply", s.recv(100))
                except (ConnectionResetError, BrokenPipeError):
                    print("reply reset")
                """;
            var info = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["--reuid=" + SandboxFixture.JobUser, "--regid=" + SandboxFixture.JobUser, "--clear-groups",
                "/usr/bin/python3", "-I", "-c", client])
            {
                info.ArgumentList.Add(a);
            }
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.That(output, Is.EqualTo("reply b''\n").Or.EqualTo("reply reset\n"));
            await channel.FinishAsync(TimeSpan.FromSeconds(5));
            Assert.That(host.Calls, Is.Empty);
            Assert.That(channel.Calls, Is.EqualTo(0));
            Assert.That(File.Exists(channel.SocketPath), Is.False, "the listener is gone after its one connection");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void A_runtime_folder_without_the_bootstrap_or_bb_is_refused_by_validate()
    {
        var empty = Directory.CreateTempSubdirectory("boxbot-empty-runtime-").FullName;
        try
        {
            foreach (var runtime in (string[])[empty, "/nonexistent-runtime", "relative/runtime"])
            {
                var runner = new SandboxRunner(SandboxFixture.Options("badruntime") with { SdkRuntimePath = runtime }, NullLogger.Instance);
                var e = Assert.Throws<SandboxException>(runner.Validate)!;
                Assert.That(e.Message, Does.Contain("bootstrap.py and bb/__init__.py"));
            }
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}
