namespace BoxBot.Sandbox.Sdk.Tests;

[Category("python")]
public sealed class PackageTests
{
    [Test]
    public async Task Bb_outside_a_sandbox_job_raises_SdkError_saying_so()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            print(json.dumps([attempt(bb.secrets.list), attempt(bb.output.attach, "x"), isinstance(bb.SdkError(1, "m"), Exception)]))
            """, withChannel: false)).Json();

        Assert.That(json[0].GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.NotInJob));
        Assert.That(json[0].GetProperty("message").GetString(), Does.Contain("only works inside a boxbot sandbox job"));
        Assert.That(json[1].GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.NotInJob));
        Assert.That(json[2].GetBoolean(), Is.True);
    }

    [Test]
    public async Task A_descriptor_that_is_not_a_socket_raises_SdkError()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            print(json.dumps(attempt(bb.secrets.list)))
            """, withChannel: false, environment: new Dictionary<string, string> { ["BOXBOT_SDK_FD"] = "1" })).Json();

        Assert.That(json.GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.NotInJob));
    }

    [Test]
    public async Task A_forged_sdk_line_printed_on_stdout_reaches_nothing()
    {
        using var job = new PythonJob();
        var result = await job.RunAsync("""
            import sys
            forged = '{"jsonrpc":"2.0","id":1,"method":"secrets.store","params":{"name":"FORGED","value":"x"}}'
            print(forged, flush=True)
            sys.stderr.write(forged + "\n")
            os.write(1, (forged + "\n").encode())
            print(json.dumps(bb.secrets.list()))
            """);

        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("FORGED"));
        Assert.That(job.Host.Calls, Is.EqualTo(new[] { "list" }));
        Assert.That(job.Host.Secrets, Is.Empty);
        Assert.That(job.Session.Calls, Is.EqualTo(1));
    }

    [Test]
    public async Task Threads_calling_at_once_each_get_their_own_replies()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            import threading
            wrong = []
            def worker(i):
                name = f"T{i}"
                for round in range(20):
                    bb.secrets.store(name, str(round))
                    if bb.secrets.has(name) is not True: wrong.append((name, "has"))
                    if bb.secrets.delete(name) is not True: wrong.append((name, "delete"))
                    if bb.secrets.has(name) is not False: wrong.append((name, "has after"))
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            print(json.dumps({"wrong": wrong}))
            """)).Json();

        Assert.That(json.GetProperty("wrong").GetArrayLength(), Is.Zero, json.ToString());
        Assert.That(job.Session.Calls, Is.EqualTo(8 * 20 * 4));
    }

    [Test]
    public async Task Workspace_path_comes_from_the_host_or_from_BOXBOT_WORKSPACE()
    {
        using var fromHost = new PythonJob(o => o with { WorkspaceInJob = "/jobs/ws" });
        var host = (await fromHost.RunAsync("print(json.dumps(bb.workspace.path()))")).Json();
        using var fromEnvironment = new PythonJob();
        var local = (await fromEnvironment.RunAsync("print(json.dumps(bb.workspace.path()))",
            environment: new Dictionary<string, string> { ["BOXBOT_WORKSPACE"] = "/workspace" })).Json();

        Assert.That(host.GetString(), Is.EqualTo("/jobs/ws"));
        Assert.That(fromHost.Session.Calls, Is.EqualTo(1));
        Assert.That(local.GetString(), Is.EqualTo("/workspace"));
        Assert.That(fromEnvironment.Session.Calls, Is.Zero);
    }

    [Test]
    public async Task A_closed_channel_raises_SdkError_rather_than_hanging()
    {
        using var job = new PythonJob(o => o with { MaxCalls = 1 });
        var json = (await job.RunAsync("""
            print(json.dumps([attempt(bb.secrets.list), attempt(bb.secrets.list), attempt(bb.secrets.list)]))
            """)).Json();

        Assert.That(json[0].TryGetProperty("ok", out _), Is.True);
        Assert.That(json[1].GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.TooManyCalls));
        Assert.That(json[2].GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.ChannelClosed));
    }

    [Test]
    public async Task The_bootstrap_makes_bb_importable_under_python_isolated_mode()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            import sys
            print(json.dumps({"name": __name__, "argv0": sys.argv[0], "bb": bb.__file__, "list": bb.secrets.list()}))
            """, viaBootstrap: true)).Json();

        Assert.That(json.GetProperty("name").GetString(), Is.EqualTo("__main__"));
        Assert.That(json.GetProperty("argv0").GetString(), Does.EndWith("job.py"));
        Assert.That(json.GetProperty("bb").GetString(), Does.StartWith(PythonJob.PythonPackageDirectory));
        Assert.That(job.Host.Calls, Is.EqualTo(new[] { "list" }));
    }

    [Test]
    public async Task Without_the_bootstrap_python_isolated_mode_cannot_import_bb()
    {
        using var job = new PythonJob();
        var result = await job.RunAsync("import bb\n", environment: new Dictionary<string, string> { ["PYTHONPATH"] = PythonJob.PythonPackageDirectory }, rawScript: true);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Stderr, Does.Contain("No module named 'bb'"));
    }
}
