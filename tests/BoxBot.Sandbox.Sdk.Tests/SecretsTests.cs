namespace BoxBot.Sandbox.Sdk.Tests;

[Category("python")]
public sealed class SecretsTests
{
    [Test]
    public async Task Store_list_has_and_delete_round_trip_through_the_host()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            bb.secrets.store("API_TOKEN", "tok-123")
            bb.secrets.store("B_2", "x")
            print(json.dumps({
                "list": bb.secrets.list(),
                "has": bb.secrets.has("API_TOKEN"),
                "has_missing": bb.secrets.has("MISSING"),
                "deleted": bb.secrets.delete("API_TOKEN"),
                "deleted_again": bb.secrets.delete("API_TOKEN"),
                "has_after": bb.secrets.has("API_TOKEN"),
            }))
            """)).Json();

        Assert.That(json.GetProperty("list").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "API_TOKEN", "B_2" }));
        Assert.That(json.GetProperty("has").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("has_missing").GetBoolean(), Is.False);
        Assert.That(json.GetProperty("deleted").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("deleted_again").GetBoolean(), Is.False);
        Assert.That(json.GetProperty("has_after").GetBoolean(), Is.False);
        Assert.That(job.Host.Secrets, Is.EqualTo(new Dictionary<string, string> { ["B_2"] = "x" }));
        Assert.That(job.Session.Calls, Is.EqualTo(8));
    }

    [Test]
    public async Task A_stored_value_is_never_returned_by_any_method_nor_logged()
    {
        const string Value = "v4lue-that-must-never-come-back";
        using var job = new PythonJob();
        var result = await job.RunAsync($$"""
            from bb import _channel
            bb.secrets.store("TOKEN", "{{Value}}")
            replies = {}
            for method in ["secrets.get", "secrets.read", "secrets.value", "secrets.fetch", "secrets.reveal",
                           "secrets.export", "secrets.dump", "secrets.load", "secrets.env", "secret.get", "get",
                           "secrets.list", "secrets.has", "secrets.delete", "secrets.store", "workspace.path",
                           "output.attach", "rpc.discover", "system.listMethods", "", "secrets.get "]:
                for params in [{"name": "TOKEN"}, {}, {"names": ["TOKEN"]}, {"name": "TOKEN", "reveal": True}]:
                    replies[method + " " + json.dumps(params)] = attempt(_channel.call, method, params)
            bb.secrets.store("TOKEN", "{{Value}}")
            print(json.dumps({"replies": replies, "get": replies['secrets.get {"name": "TOKEN"}']}))
            """);
        var json = result.Json();

        Assert.That(result.Stdout, Does.Not.Contain(Value));
        Assert.That(result.Stderr, Does.Not.Contain(Value));
        Assert.That(json.GetProperty("get").GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.MethodNotFound));
        Assert.That(job.Logger.All, Does.Not.Contain(Value));
        Assert.That(job.Logger.Lines, Is.Not.Empty);
        // The loop really talked to the host: the value stored at its start was deleted by it and stored again.
        Assert.That(job.Host.Calls, Does.Contain("delete TOKEN"));
        Assert.That(job.Host.Secrets["TOKEN"], Is.EqualTo(Value));
    }

    [TestCase("lower")]
    [TestCase("1ABC")]
    [TestCase("A-B")]
    [TestCase("")]
    [TestCase("ÄBC")]
    [TestCase("A\u0000")]
    [TestCase("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_name_outside_the_pattern_is_refused_before_the_host_sees_it(string name)
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync($$"""
            n = json.loads({{PythonJob.PythonString(System.Text.Json.JsonSerializer.Serialize(name, TestJson.Default.String))}})
            print(json.dumps([attempt(bb.secrets.store, n, "v"), attempt(bb.secrets.has, n), attempt(bb.secrets.delete, n)]))
            """)).Json();

        Assert.That(json.EnumerateArray().Select(r => r.GetProperty("code").GetInt32()), Is.All.EqualTo(SdkErrorCodes.InvalidParams));
        Assert.That(job.Host.Calls, Is.Empty);
    }

    [Test]
    public async Task Sixty_four_character_names_and_8_KiB_values_are_the_largest_accepted()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            name = "A" * 64
            print(json.dumps({
                "max": attempt(bb.secrets.store, name, "é" * 4096),
                "too_big": attempt(bb.secrets.store, "B", "x" * 8193),
                "nul": attempt(bb.secrets.store, "C", "a\0b"),
            }))
            """)).Json();

        Assert.That(json.GetProperty("max").TryGetProperty("ok", out _), Is.True);
        Assert.That(json.GetProperty("too_big").GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.InvalidParams));
        Assert.That(json.GetProperty("nul").GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.InvalidParams));
        Assert.That(job.Host.Secrets.Keys, Is.EqualTo(new[] { new string('A', 64) }));
    }

    [Test]
    public async Task Params_of_the_wrong_type_are_refused()
    {
        using var job = new PythonJob();
        var json = (await job.RunAsync("""
            from bb import _channel
            print(json.dumps([
                attempt(bb.secrets.store, 5, "v"),
                attempt(bb.secrets.store, "A", 5),
                attempt(bb.secrets.store, "A", None),
                attempt(bb.secrets.has, ["A"]),
                attempt(bb.secrets.delete, {"A": 1}),
                attempt(bb.output.attach, 7) if False else attempt(_channel.call, "output.attach", {"path": 7}),
                attempt(_channel.call, "secrets.store", {"name": "A"}),
                attempt(_channel.call, "secrets.store", {"name": "A", "value": "v", "extra": "x"}),
                attempt(_channel.call, "secrets.list", {"x": "y"}),
                attempt(_channel.call, "secrets.list", [1]),
            ]))
            """)).Json();

        Assert.That(json.EnumerateArray().Select(r => r.GetProperty("code").GetInt32()), Is.All.EqualTo(SdkErrorCodes.InvalidParams));
        Assert.That(job.Host.Calls, Is.Empty);
    }

    [Test]
    public async Task A_host_failure_becomes_a_generic_error_that_leaks_nothing()
    {
        using var job = new PythonJob();
        job.Host.Throw = new InvalidOperationException("disk /var/lib/boxbot/secrets.json: OTHER_SECRET=hunter2");
        var result = await job.RunAsync("""
            print(json.dumps([attempt(bb.secrets.store, "A", "v"), attempt(bb.secrets.list)]))
            """);
        var json = result.Json();

        Assert.That(json.EnumerateArray().Select(r => r.GetProperty("code").GetInt32()), Is.All.EqualTo(SdkErrorCodes.InternalError));
        Assert.That(result.Stdout, Does.Not.Contain("hunter2").And.Not.Contain("/var/lib"));
        Assert.That(job.Logger.All, Does.Not.Contain("hunter2").And.Contain("InvalidOperationException"));
    }

    [Test]
    public async Task A_host_refusal_reaches_the_script_with_its_message()
    {
        using var job = new PythonJob();
        job.Host.Throw = new SdkRefusedException("at most 64 secrets");
        var json = (await job.RunAsync("""
            print(json.dumps(attempt(bb.secrets.store, "A", "v")))
            """)).Json();

        Assert.That(json.GetProperty("code").GetInt32(), Is.EqualTo(SdkErrorCodes.Refused));
        Assert.That(json.GetProperty("message").GetString(), Is.EqualTo("at most 64 secrets"));
    }
}
