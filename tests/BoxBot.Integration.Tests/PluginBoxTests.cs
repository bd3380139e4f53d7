using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using BoxBot.Agent.Tests.Llm;
using BoxBot.Mesh;
using BoxBot.Mesh.Credentials;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Integration.Tests;

/// <summary>
/// Plugins on a whole box (`boxbot dev up`, the published executables, its household broker): the reference's hello-world
/// and demo plugins (written from their facts) installed with the CLI, loaded into their confined processes in the
/// sandbox runner and called over the mesh; a plugin that tries to get out, each attempt confined and reported while the
/// others keep serving; archives, digests and capabilities that are refused leave nothing installed.
/// </summary>
public class PluginBoxTests
{
    private const string Box = "den";
    private DevBox _box = null!;
    private FakeLlmServer _llm = null!;
    private string _plugins = "";
    private MeshClient _watcher = null!;
    private readonly ConcurrentQueue<(string Subject, string Body)> _events = new();
    private CancellationTokenSource _stop = new();

    [OneTimeSetUp]
    public async Task StartBox()
    {
        _llm = FakeLlmServer.Start(FakeLlmWire.Anthropic);
        _box = new DevBox(TestEnv.TempDir("plugin-box"));
        _box.WriteLlmKey();
        // The agent may call one plugin function for an admin: hello-world's, by its full name on the box.
        await _box.StartAsync(DevBox.AgentConfig(_llm) +
            $"[mesh]\nbox_id = \"{Box}\"\n[mesh.policy.admin]\nallow = [\"{Box}.hello-world.hello_world\"]\n");
        await TestEnv.WaitUntilAsync(() => _box.Boxbot(["mesh", "status"]).ExitCode == 0);
        _plugins = Directory.CreateDirectory(Path.Combine(_box.Home, "plugin-src")).FullName;
        var keys = Directory.CreateDirectory(Path.Combine(_box.Home, "keys")).FullName;
        var (code, _, stderr) = _box.Boxbot(["mesh", "admin", "add", "watcher", "--out", keys]);
        Assert.That(code, Is.Zero, stderr);
        (_watcher, var tenant) = await DevBox.ConnectAsAsync(keys, "watcher");
        var events = await _watcher.SubscribeLiveAsync(MeshSubjects.Device(tenant, Box, "event") + ".*");
        _ = Task.Run(async () =>
        {
            await foreach (var message in events.ReadAllAsync(_stop.Token))
            {
                _events.Enqueue((message.Subject, Encoding.UTF8.GetString(message.Data.Span)));
            }
        });
        Write("hello-world", ReferencePlugins.HelloWorldManifest, ReferencePlugins.HelloWorldCode);
        Write("demo", ReferencePlugins.DemoManifest, ReferencePlugins.DemoCode);
        Write("prober", """{"id": "prober", "version": "1", "entry_point": "capability.py", "class_name": "Prober", "capabilities": {"timeout_s": 2, "memory_mib": 64}}""", ProberCode);
        Write("leaver", """{"id": "leaver", "version": "2", "entry_point": "capability.py", "class_name": "Prober"}""", ProberCode);
        // hello-world serves throughout: the other tests check that it keeps answering while they break things.
        (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "hello-world")]);
        Assert.That(code, Is.Zero, stderr);
    }

    [OneTimeTearDown]
    public async Task StopBox()
    {
        await _stop.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher.DisposeAsync();
        }
        _box?.Dispose();
        _llm?.Dispose();
    }

    [Test]
    public async Task The_reference_examples_install_load_and_answer_over_the_mesh()
    {
        var (code, stdout, stderr) = _box.Boxbot(["plugins", "info", "hello-world"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("hello-world 0.1.0: running").And.Contain("functions  hello_world"));

        // The demo as a bundle, the way it travels; a local install prints the digest it computed.
        var bundle = Path.Combine(_box.Home, "demo.tgz");
        Assert.That(_box.Boxbot(["plugins", "pack", Path.Combine(_plugins, "demo"), "--out", bundle]).ExitCode, Is.Zero);
        (code, stdout, stderr) = _box.Boxbot(["plugins", "install", "--bundle", bundle]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("installed demo 0.1.0: running").And.Contain("functions  echo, ping"));
        Assert.That(stderr, Does.Match("demo 0.1.0: sha256:[0-9a-f]{64}"));

        Assert.That(Invoke("hello_world", """{"name": "plugin"}""").GetProperty("message").GetString(), Is.EqualTo("Hello, plugin!"));
        Assert.That(Invoke("hello-world.hello_world").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"));
        Assert.That(JsonSerializer.Serialize(Invoke("demo.ping")), Is.EqualTo("""{"pong":true,"plugin":"demo"}"""));
        // State persists between calls, as in the reference: one process serves them all.
        Assert.That(Invoke("echo", """{"message": "a"}""").GetProperty("tick").GetInt32(), Is.EqualTo(1));
        Assert.That(Invoke("demo.echo", """{"message": "b"}""").GetProperty("tick").GetInt32(), Is.EqualTo(2));

        // The box advertises them with the reference's schemas.
        (code, stdout, stderr) = _box.Boxbot(["mesh", "describe", Box, "--json"]);
        Assert.That(code, Is.Zero, stderr);
        var functions = JsonDocument.Parse(stdout).RootElement.GetProperty("description").GetProperty("capabilities").GetProperty("functions")
            .EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => JsonSerializer.Serialize(f.GetProperty("parameters")));
        Assert.That(functions.Keys, Is.SupersetOf(new[] { "hello_world", "hello-world.hello_world", "echo", "demo.echo", "ping", "demo.ping", "get_status" }));
        Assert.That(functions["hello_world"], Is.EqualTo("""{"type":"object","properties":{"name":{"type":"string","description":"Name to greet (default: world).","default":"world"}},"required":[]}"""));

        await TestEnv.WaitUntilAsync(() => _events.Any(e => e.Subject.EndsWith(".event.plugin_loaded", StringComparison.Ordinal) && e.Body.Contains("\"plugin_id\":\"demo\"")));
        var loaded = _events.First(e => e.Body.Contains("\"plugin_id\":\"demo\"")).Body;
        Assert.That(JsonDocument.Parse(loaded).RootElement.GetProperty("params").GetProperty("functions").EnumerateArray().Select(f => f.GetString()),
            Is.EquivalentTo(new[] { "echo", "ping" }));

        (code, stdout, _) = _box.Boxbot(["plugins", "list"]);
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Match(@"demo\s+0\.1\.0\s+running\s+echo, ping"));
    }

    [Test]
    public async Task A_plugin_that_tries_to_get_out_is_confined_reported_and_the_others_keep_serving()
    {
        var (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "prober")]);
        Assert.That(code, Is.Zero, stderr);

        // The box's files: its credentials, state and config are not in the plugin's world; its own code is read-only.
        foreach (var path in new[] { Path.Combine(_box.Home, "credentials"), Path.Combine(_box.Home, "boxbot.toml"), "/etc/passwd", "/root" })
        {
            Assert.That(Invoke("prober.read", Json(("path", path))).GetProperty("error").GetString(), Does.StartWith("FileNotFoundError"), path);
        }
        Assert.That(Invoke("prober.list", Json(("path", "/"))).GetProperty("entries").EnumerateArray().Select(e => e.GetString()),
            Is.EquivalentTo(new[] { "bin", "data", "dev", "etc", "lib", "lib64", "opt", "plugin", "proc", "usr", "workspace" }).Or.EquivalentTo(new[] { "bin", "data", "dev", "etc", "lib", "opt", "plugin", "proc", "usr", "workspace" }));
        Assert.That(Invoke("prober.write", Json(("path", "/plugin/capability.py"), ("text", "x"))).GetProperty("error").GetString(), Does.Contain("Read-only file system"));
        // Another plugin's data is not there, nor the host's environment.
        Assert.That(Invoke("prober.list", Json(("path", "/data"))).GetProperty("entries").GetArrayLength(), Is.Zero);
        var env = Invoke("prober.env").GetProperty("env").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(env, Has.None.StartsWith("BOXBOT_HOME").And.None.StartsWith("BOXBOT_SECRET").And.None.EqualTo("HOSTNAME"));
        // No network at all (none declared).
        Assert.That(Invoke("prober.connect", Json(("host", "127.0.0.1"), ("port", 8443))).GetProperty("error").GetString(), Does.Contain("Network is unreachable"));

        // Its data folder is its own and survives a reload.
        Assert.That(Invoke("prober.write", Json(("path", "/data/note.txt"), ("text", "kept"))).GetProperty("written").GetString(), Is.EqualTo("/data/note.txt"));
        Assert.That(_box.Boxbot(["plugins", "reload", "prober"]).ExitCode, Is.Zero);
        Assert.That(Invoke("prober.read", Json(("path", "/data/note.txt"))).GetProperty("read").GetInt32(), Is.EqualTo(4));

        // exec: the kernel ends the process; the call says so, the plugin restarts and the others never stopped.
        var failed = InvokeError("prober.run");
        Assert.That(failed, Does.Contain("the plugin's process ended during the call"));
        Assert.That(Invoke("hello_world").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"));
        await TestEnv.WaitUntilAsync(() => Info("prober").GetProperty("state").GetString() == "running");
        var info = Info("prober");
        Assert.That(info.GetProperty("last_error").GetString(), Does.Contain("seccomp"));
        Assert.That(info.GetProperty("restarts").GetInt32(), Is.EqualTo(1));

        // A spin past timeout_s: the call is reported, the stuck process ended and restarted.
        Assert.That(InvokeError("prober.spin"), Does.Contain("no result within 2 s"));
        await TestEnv.WaitUntilAsync(() => Info("prober") is var i && i.GetProperty("restarts").GetInt32() == 2 && i.GetProperty("state").GetString() == "running");
        Assert.That(Info("prober").GetProperty("last_error").GetString(), Does.Contain("did not answer a cancel").Or.Contain("did not end when cancelled"));

        // Memory: 512 MiB against a 64 MiB limit fails inside the plugin; the process lives on.
        Assert.That(InvokeError("prober.hog"), Does.Contain("MemoryError"));
        Assert.That(Invoke("prober.list", Json(("path", "/data"))).GetProperty("entries")[0].GetString(), Is.EqualTo("note.txt"));
        Assert.That(Invoke("hello-world.hello_world").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"));

        // Its events go out on the box's event subjects.
        Assert.That(Invoke("prober.shout", Json(("text", "hi"))).GetProperty("shouted").GetString(), Is.EqualTo("hi"));
        await TestEnv.WaitUntilAsync(() => _events.Any(e => e.Subject.EndsWith(".event.shouted", StringComparison.Ordinal)));
        var shouted = JsonDocument.Parse(_events.First(e => e.Subject.EndsWith(".event.shouted", StringComparison.Ordinal)).Body).RootElement.GetProperty("params");
        Assert.That((shouted.GetProperty("text").GetString(), shouted.GetProperty("device_id").GetString()), Is.EqualTo(("hi", Box)));
    }

    [Test]
    public void Refused_bundles_digests_and_capabilities_leave_nothing_installed()
    {
        // A tar with a symlink in it.
        var evil = Path.Combine(_box.Home, "evil.tgz");
        var src = Directory.CreateDirectory(Path.Combine(_box.Home, "evil-src", "linky")).FullName;
        File.WriteAllText(Path.Combine(src, "manifest.json"), """{"id": "linky", "class_name": "X"}""");
        File.CreateSymbolicLink(Path.Combine(src, "capability.py"), "/etc/passwd");
        Assert.That(TestEnv.Run("/usr/bin/tar", ["-czf", evil, "-C", Path.GetDirectoryName(src)!, "linky"], null).ExitCode, Is.Zero);
        var (code, _, stderr) = _box.Boxbot(["plugins", "install", evil]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("capability.py").And.Contain("link"));

        (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "hello-world"), "--digest", "sha256:" + new string('0', 64), "--replace"]);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("not sha256:0000"));

        Write("wants-net", """{"id": "wants-net", "class_name": "X", "capabilities": {"network": ["api.example.org"]}}""",
            "from device_connect_edge.drivers.decorators import rpc\nclass X:\n    def __init__(self, device=None):\n        pass\n");
        (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "wants-net")]);
        Assert.That(code, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("capabilities.network"));

        Write("broken", """{"id": "broken", "class_name": "Missing"}""", "import nosuchmodule\n");
        (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "broken")]);
        Assert.That(code, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("ModuleNotFoundError").And.Contain("nosuchmodule"), "the import error of the describe job is shown");

        var (_, list, _) = _box.Boxbot(["plugins", "list", "--json"]);
        Assert.That(JsonDocument.Parse(list).RootElement.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()),
            Has.No.Member("linky").And.No.Member("wants-net").And.No.Member("broken"));
        var staging = Path.Combine(_box.Home, "state", "boxbot-plugins", "plugins", "staging");
        Assert.That(Directory.GetFileSystemEntries(staging), Is.Empty, "nothing left in staging");
    }

    [Test]
    public async Task An_upload_past_the_bundle_limit_or_out_of_order_is_refused()
    {
        // Straight at plugins.sock, as a client that skips the CLI's own check would.
        var socket = BoxBot.Config.BoxPaths.UnderHome(_box.Home).SocketPath(BoxBot.Contracts.Daemons.PluginHost);
        await using var host = await BoxBot.Ipc.JsonRpcClient.ConnectAsync(socket);
        var json = BoxBot.Contracts.PluginsJsonContext.Default;
        var piece = new byte[512 * 1024];
        Task<BoxBot.Contracts.PluginUploadState> Upload(string? id, long offset) => host.CallAsync(BoxBot.Contracts.PluginMethods.Upload,
            new BoxBot.Contracts.PluginUploadChunk { UploadId = id, Offset = offset, Data = piece }, json.PluginUploadChunk, json.PluginUploadState);

        var first = await Upload(null, 0);
        var skipped = await Assert.ThrowsAsync<BoxBot.Ipc.RpcException>(() => Upload(first.UploadId, 3 * piece.Length));
        Assert.That(skipped!.Message, Does.Contain($"the next piece starts there, not at {3 * piece.Length}"));

        var received = first.Received;
        while (received + piece.Length <= BoxBot.Plugins.PluginBundle.MaxBundleBytes)
        {
            received = (await Upload(first.UploadId, received)).Received;
        }
        var over = await Assert.ThrowsAsync<BoxBot.Ipc.RpcException>(() => Upload(first.UploadId, received));
        Assert.That(over!.Message, Does.Contain("larger than 10 MiB"));
        var gone = await Assert.ThrowsAsync<BoxBot.Ipc.RpcException>(() => Upload(first.UploadId, received));
        Assert.That(gone!.Message, Does.Contain($"no upload '{first.UploadId}'"), "a refused upload is dropped, not kept half-full");
    }

    [Test]
    public async Task Unloading_and_removing_take_the_functions_off_the_mesh_and_remove_its_data()
    {
        var (code, _, stderr) = _box.Boxbot(["plugins", "install", Path.Combine(_plugins, "leaver")]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(Invoke("leaver.write", Json(("path", "/data/note.txt"), ("text", "kept"))).GetProperty("written").GetString(), Is.EqualTo("/data/note.txt"));

        (code, var stdout, stderr) = _box.Boxbot(["plugins", "unload", "leaver"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("leaver 2: not loaded"));
        await TestEnv.WaitUntilAsync(() => _events.Any(e => e.Subject.EndsWith(".event.plugin_unloaded", StringComparison.Ordinal) && e.Body.Contains("\"leaver\"")));
        Assert.That(InvokeError("leaver.env"), Does.Contain("leaver.env"));
        var data = Path.Combine(_box.Home, "state", "boxbot-sandbox", "plugin-data", "leaver");
        Assert.That(File.ReadAllText(Path.Combine(data, "note.txt")), Is.EqualTo("kept"), "unloading keeps the data");

        (code, _, stderr) = _box.Boxbot(["plugins", "remove", "leaver"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(Directory.Exists(data), Is.False, "a removed plugin's data goes with it");
        (code, _, stderr) = _box.Boxbot(["plugins", "info", "leaver"]);
        Assert.That(code, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("no plugin 'leaver' is installed"));
        var audit = File.ReadAllLines(Path.Combine(_box.Home, "state", "boxbot-plugins", "plugins", "audit.log"));
        Assert.That(audit.Count(l => l.Contains("\"leaver\"")), Is.EqualTo(2), string.Join("\n", audit));
    }

    [Test]
    public async Task The_reference_admin_RPCs_answer_admins_on_the_admin_device_in_the_reference_shapes()
    {
        var list = await AdminAsync("list_plugins", "{}");
        Assert.That(list.GetProperty("status").GetString(), Is.EqualTo("success"));
        var hello = list.GetProperty("loaded").GetProperty("hello-world");
        Assert.That(hello.GetProperty("functions").EnumerateArray().Select(f => f.GetString()), Is.EqualTo(new[] { "hello_world" }));
        Assert.That(hello.GetProperty("manifest").GetProperty("class_name").GetString(), Is.EqualTo("HelloWorldCapability"));
        Assert.That(list.GetProperty("available").EnumerateArray().Single(a => a.GetProperty("id").GetString() == "hello-world").GetProperty("loaded").GetBoolean(), Is.True);

        var reloaded = await AdminAsync("reload_plugin", """{"plugin_id": "hello-world"}""");
        Assert.That((reloaded.GetProperty("status").GetString(), reloaded.GetProperty("plugin").GetProperty("id").GetString()), Is.EqualTo(("success", "hello-world")));
        Assert.That(Invoke("hello_world").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"));

        var missing = await AdminAsync("load_plugin", """{"plugin_id": "ghost"}""");
        Assert.That((missing.GetProperty("status").GetString(), missing.GetProperty("message").GetString()), Is.EqualTo(("error", "Failed to load plugin 'ghost'")));
        Assert.That(missing.GetProperty("reason").GetString(), Does.Contain("no plugin 'ghost' is installed"));

        // Code sent over the mesh is checked and staged; it is installed only when an admin approves on the box.
        var bundlePath = Path.Combine(_box.Home, "meshed.tgz");
        Write("meshed", """{"id": "meshed", "version": "3", "class_name": "Meshed"}""",
            "from device_connect_edge.drivers.decorators import rpc\n\nclass Meshed:\n    def __init__(self, device=None):\n        pass\n\n    @rpc()\n    async def where(self) -> dict:\n        return {\"from\": \"the mesh\"}\n");
        Assert.That(_box.Boxbot(["plugins", "pack", Path.Combine(_plugins, "meshed"), "--out", bundlePath]).ExitCode, Is.Zero);
        var bundle = Convert.ToBase64String(File.ReadAllBytes(bundlePath));
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(bundlePath)));
        var unpinned = await AdminAsync("install_plugin_from_bundle", $$"""{"bundle_b64": "{{bundle}}"}""");
        Assert.That((unpinned.GetProperty("status").GetString(), unpinned.GetProperty("message").GetString()), Is.EqualTo(("error", "digest is required (sha256:HEX of the bundle; [plugins] require_digest)")));
        var pending = await AdminAsync("install_plugin_from_bundle", $$"""{"bundle_b64": "{{bundle}}", "digest": "{{digest}}"}""");
        Assert.That((pending.GetProperty("status").GetString(), pending.GetProperty("plugin_id").GetString(), pending.GetProperty("digest").GetString()),
            Is.EqualTo(("pending", "meshed", digest)), pending.GetRawText());
        var approval = pending.GetProperty("approval_id").GetString()!;
        Assert.That(InvokeError("meshed.where"), Does.Contain("meshed.where"), "nothing is installed before an admin approves");
        var (code, shown, stderr) = _box.Boxbot(["approvals", "show", approval]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(shown, Does.Contain("installs plugin meshed 3, from bundle from mesh admin watcher").And.Contain(digest).And.Contain("functions  where"));
        (code, var approved, stderr) = _box.Boxbot(["approvals", "approve", approval]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(approved, Does.Contain("installed plugin meshed 3"));
        Assert.That(Invoke("meshed.where").GetProperty("from").GetString(), Is.EqualTo("the mesh"));
        Assert.That(Info("meshed").GetProperty("installed_by").GetString(), Does.StartWith("console:"));

        var refused = await AdminAsync("install_plugin_from_manifest", """{"manifest": {"type": "docker", "image": "x"}}""");
        Assert.That(refused.GetProperty("message").GetString(), Does.StartWith("unsupported manifest type: docker"));

        // Changes are rate-limited per caller: four used above (the docker manifest is refused before it counts), six more pass, the next is refused.
        for (var i = 0; i < 6; i++)
        {
            await AdminAsync("unload_plugin", """{"plugin_id": "ghost"}""");
        }
        var limited = await AdminAsync("reload_plugin", """{"plugin_id": "hello-world"}""");
        Assert.That(limited.GetProperty("status").GetString(), Is.EqualTo("error"));
        Assert.That(limited.GetProperty("reason").GetString(), Does.StartWith("rate limited"));
        Assert.That(Invoke("hello_world").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"), "a refused reload changes nothing");
    }

    [Test]
    public void The_agent_calls_plugin_functions_as_mesh_tools_only_where_the_policy_allows()
    {
        _llm.ThenToolUse("t1", "mesh_invoke", $$$"""{"device":"{{{Box}}}","function":"hello-world.hello_world","params":{"name":"agent"}}""");
        _llm.ThenToolUse("t2", "mesh_invoke", $$$"""{"device":"{{{Box}}}","function":"hello_world","params":{"name":"sneaky"}}""");
        _llm.ThenText("done");
        var before = _llm.Requests.Count;
        var (code, _, stderr) = _box.Boxbot(["chat", "--message", "greet me through the plugin"]);
        Assert.That(code, Is.EqualTo(0), stderr);
        var requests = _llm.Requests.Skip(before).ToList();
        Assert.That(DevBox.ToolResult(requests[1]), Does.StartWith("<untrusted_data").And.Contain("Hello, agent!"));
        Assert.That(DevBox.ToolResult(requests[2]), Does.Contain($"refused: the box's mesh policy does not let you call {Box}.hello_world"),
            "the same function under a name the policy does not list is denied");
    }

    private async Task<JsonElement> AdminAsync(string method, string parameters)
    {
        var request = Encoding.UTF8.GetBytes($$"""{"jsonrpc": "2.0", "id": "t-1", "method": "{{method}}", "params": {{parameters}}}""");
        var reply = await _watcher.RequestAsync(MeshSubjects.Cmd("default", Box + "-admin"), request, TimeSpan.FromSeconds(60));
        using var doc = JsonDocument.Parse(reply);
        Assert.That(doc.RootElement.TryGetProperty("result", out var result), Is.True, Encoding.UTF8.GetString(reply.Span));
        return result.Clone();
    }

    private void Write(string id, string manifest, string code)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_plugins, id)).FullName;
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest);
        File.WriteAllText(Path.Combine(dir, "capability.py"), code);
    }

    private static string Json(params (string Name, object Value)[] members) =>
        "{" + string.Join(", ", members.Select(m => JsonSerializer.Serialize(m.Name) + ": "
            + (m.Value is int i ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : JsonSerializer.Serialize((string)m.Value)))) + "}";

    private JsonElement Invoke(string function, string parameters = "{}")
    {
        var (code, stdout, stderr) = _box.Boxbot(["mesh", "invoke", Box, function, "--params", parameters, "--timeout", "15"]);
        Assert.That(code, Is.Zero, $"{function}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private string InvokeError(string function, string parameters = "{}")
    {
        var (code, _, stderr) = _box.Boxbot(["mesh", "invoke", Box, function, "--params", parameters, "--timeout", "15"]);
        Assert.That(code, Is.Not.Zero, function);
        return stderr;
    }

    private JsonElement Info(string id)
    {
        var (code, stdout, stderr) = _box.Boxbot(["plugins", "info", id, "--json"]);
        Assert.That(code, Is.Zero, stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private const string ProberCode = """"
        import os
        import socket

        from device_connect_edge.drivers.decorators import emit, rpc


        class Prober:
            def __init__(self, device=None):
                self.device = device

            @rpc()
            async def read(self, path: str) -> dict:
                try:
                    with open(path, "rb") as f:
                        return {"read": len(f.read())}
                except Exception as e:
                    return {"error": type(e).__name__ + ": " + str(e)}

            @rpc()
            async def list(self, path: str) -> dict:
                try:
                    return {"entries": sorted(os.listdir(path))}
                except Exception as e:
                    return {"error": type(e).__name__ + ": " + str(e)}

            @rpc()
            async def write(self, path: str, text: str) -> dict:
                try:
                    with open(path, "w") as f:
                        f.write(text)
                    return {"written": path}
                except Exception as e:
                    return {"error": type(e).__name__ + ": " + str(e)}

            @rpc()
            async def env(self) -> dict:
                return {"env": dict(os.environ)}

            @rpc()
            async def connect(self, host: str, port: int) -> dict:
                try:
                    socket.create_connection((host, port), timeout=2)
                    return {"connected": True}
                except Exception as e:
                    return {"error": type(e).__name__ + ": " + str(e)}

            @rpc()
            async def run(self) -> dict:
                os.system("id")
                return {"ran": True}

            @rpc()
            async def spin(self) -> dict:
                while True:
                    pass

            @rpc()
            async def hog(self) -> dict:
                return {"size": len(bytearray(512 * 1024 * 1024))}

            @rpc()
            async def shout(self, text: str) -> dict:
                await self.shouted(text=text)
                return {"shouted": text}

            @emit()
            async def shouted(self, text: str) -> None:
                """Something was shouted."""
        """";
}
