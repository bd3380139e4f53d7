using System.Text;
using System.Text.Json;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Mesh.Tests;

/// <summary>
/// A device served by <see cref="MeshDevice"/>, against the reference's own messages (tests/…/Samples/reference) and
/// through a real nats-server: registration, heartbeats, presence, events, replies and errors field by field; and what
/// the reference does not do: params checked against the schema, bounded sizes, a flood from one caller.
/// </summary>
public sealed class DeviceWireTests
{
    private const string Tenant = "default";
    private NatsServerProcess _server = null!;
    private MeshClient _deviceClient = null!;
    private MeshClient _caller = null!;

    [SetUp]
    public async Task Start()
    {
        _server = await NatsServerProcess.StartOpenAsync();
        _deviceClient = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url), NullLogger.Instance);
        _caller = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url), NullLogger.Instance);
    }

    [TearDown]
    public async Task Stop()
    {
        await _caller.DisposeAsync();
        await _deviceClient.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<MeshDevice> ServeAsync(MeshDeviceOptions? options = null, List<DeviceCall>? seen = null)
    {
        var device = new MeshDevice(_deviceClient, Tenant, DemoSensor.Spec(), DemoSensor.Handlers(seen), options ?? new MeshDeviceOptions(), NullLogger.Instance, TimeProvider.System);
        await device.StartAsync(CancellationToken.None);
        return device;
    }

    private async Task<JsonElement> CallAsync(string request) =>
        JsonShape.Parse(await _caller.RequestAsync(MeshSubjects.Cmd(Tenant, "demo-01"), Encoding.UTF8.GetBytes(request), TimeSpan.FromSeconds(5)));

    private static string Params(JsonElement request) => request.GetProperty("params").GetRawText();

    [Test]
    public void The_registration_is_the_references_field_by_field()
    {
        var sample = JsonShape.Parse(JsonShape.Sample("register-device.request.json"));
        var ours = Json(w => DemoSensor.Spec().WriteRegistration(w, DemoSensor.Clock));

        JsonShape.AssertSame(sample.GetProperty("params"), ours);
        var request = JsonShape.Parse(RpcRequest.Build("demo-01-1768478400123", "registerDevice", ours.GetRawText()));
        JsonShape.AssertSame(sample, request);
    }

    [Test]
    public async Task Requested_registration_heartbeat_presence_and_events_are_the_references_field_by_field()
    {
        await using var heard = new Collector(_caller, "device-connect.default.demo-01.>");
        await heard.WaitUntilLiveAsync(_caller, "device-connect.default.demo-01.probe");
        await using var device = await ServeAsync();

        var pulled = await CallAsync(JsonShape.Sample("request-registration.request.json"));
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("request-registration.reply.json")), pulled, values: true, "$.result.status.ts");

        await device.PublishEventAsync("reading", w =>
        {
            w.WriteNumber("value", 21.5);
            w.WriteString("unit", "C");
        });
        var seen = new Dictionary<string, JsonElement>();
        while (seen.Count < 3 && await heard.NextAsync(TimeSpan.FromSeconds(10)) is { } message)
        {
            var kind = message.Subject.Split('.')[3];
            if (kind is "heartbeat" or "presence" or "event")
            {
                seen.TryAdd(kind, JsonShape.Parse(message.Data));
            }
        }
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("heartbeat.json")), seen["heartbeat"], values: false);
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("presence.json")), seen["presence"], values: false);
        var ev = seen["event"];
        var sample = JsonShape.Parse(JsonShape.Sample("event.json"));
        Assert.That(ev.GetProperty("method").GetString(), Is.EqualTo(sample.GetProperty("method").GetString()));
        Assert.That(ev.GetProperty("params").GetProperty("event_id").GetString(), Does.Match("^[0-9a-f]{8}$"));
        Assert.That(ev.GetProperty("params").GetProperty("ts").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"));
        Assert.That(ev.GetProperty("params").GetProperty("device_id").GetString(), Is.EqualTo("demo-01"), "beside the reference's members, for its agent tools");
        Assert.That(ev.GetProperty("params").GetProperty("value").GetDouble(), Is.EqualTo(21.5));
    }

    [Test]
    public async Task Results_and_errors_are_the_references_and_a_failure_carries_no_stack_trace()
    {
        await using var device = await ServeAsync();

        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("result.json")),
            await CallAsync("""{"jsonrpc": "2.0", "id": "d2d-1a2b3c4d5e6f", "method": "echo", "params": {"message": "hi"}}"""));
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("error-unknown-method.json")),
            await CallAsync("""{"jsonrpc": "2.0", "id": "d2d-1a2b3c4d5e6f", "method": "missing_fn", "params": {}}"""));
        var failed = await CallAsync("""{"jsonrpc": "2.0", "id": "d2d-1a2b3c4d5e6f", "method": "fail", "params": {}}""");
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("error-handler.json")), failed);
        JsonShape.AssertSame(JsonShape.Parse(JsonShape.Sample("result-null-id.json")),
            await CallAsync("""{"jsonrpc": "2.0", "id": null, "method": "echo", "params": {"message": "hi"}}"""), values: false);
        Assert.That(device.Failed, Is.EqualTo(1));
    }

    [Test]
    public async Task Params_that_break_the_schema_are_refused_naming_the_field_before_the_function_runs()
    {
        var seen = new List<DeviceCall>();
        await using var device = await ServeAsync(seen: seen);

        foreach (var (args, field) in new[]
        {
            ("""{"message": 5}""", "message: expected a string, got a number"),
            ("""{}""", "message: required"),
            ("""{"message": "hi", "msg": "x"}""", "msg: unknown parameter"),
        })
        {
            var reply = await CallAsync($$"""{"jsonrpc": "2.0", "id": "x", "method": "echo", "params": {{args}}}""");
            Assert.That(reply.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcCodes.InvalidParams), args);
            Assert.That(reply.GetProperty("error").GetProperty("message").GetString(), Does.Contain(field), args);
        }
        var sample = await CallAsync("""{"jsonrpc": "2.0", "id": "x", "method": "sample", "params": {"name": "n", "items": [1], "options": {}, "count": 2.5}}""");
        Assert.That(sample.GetProperty("error").GetProperty("message").GetString(), Does.Contain("count: expected an integer"));
        var optional = await CallAsync("""{"jsonrpc": "2.0", "id": "x", "method": "sample", "params": {"name": "n", "items": [], "options": {}, "scale": null}}""");
        Assert.That(optional.TryGetProperty("result", out _), Is.True, "Optional[float] = None takes a null");
        Assert.That(seen, Is.Empty, "echo never ran");
        Assert.That(device.Refused, Is.EqualTo(4));
    }

    [Test]
    public async Task The_callers_dc_meta_reaches_the_record_not_the_params()
    {
        var seen = new List<DeviceCall>();
        await using var device = await ServeAsync(seen: seen);

        var reply = await CallAsync(JsonShape.Sample("call-with-dc-meta.request.json").Replace("demo-02", "demo-01", StringComparison.Ordinal));

        Assert.That(reply.TryGetProperty("result", out _), Is.True, reply.GetRawText());
        Assert.That(seen.Single().Params.TryGetProperty("_dc_meta", out _), Is.False);
        Assert.That(seen.Single().MetaJson, Does.Contain("\"source_device\""));
    }

    [Test]
    public async Task Malformed_oversize_and_id_less_requests_are_answered_or_dropped_and_the_device_keeps_serving()
    {
        await using var device = await ServeAsync();
        var cmd = MeshSubjects.Cmd(Tenant, "demo-01");

        var notJson = JsonShape.Parse(await _caller.RequestAsync(cmd, "{not json"u8.ToArray(), TimeSpan.FromSeconds(5)));
        Assert.That(notJson.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcCodes.ParseError));
        Assert.That(notJson.GetProperty("id").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var arrayParams = await CallAsync("""{"jsonrpc": "2.0", "id": "a", "method": "echo", "params": ["hi"]}""");
        Assert.That(arrayParams.GetProperty("error").GetProperty("code").GetInt32(), Is.EqualTo(RpcCodes.InvalidParams));

        var big = Encoding.UTF8.GetBytes("{\"jsonrpc\": \"2.0\", \"id\": \"b\", \"method\": \"echo\", \"params\": {\"message\": \"" + new string('x', 950 * 1024) + "\"}}");
        var oversize = JsonShape.Parse(await _caller.RequestAsync(cmd, big, TimeSpan.FromSeconds(5)));
        Assert.That(oversize.GetProperty("error").GetProperty("message").GetString(), Does.Contain("over the"));

        var twoMiB = Encoding.UTF8.GetBytes(new string('x', 2 * 1024 * 1024));
        Assert.That(async () => await _caller.RequestAsync(cmd, twoMiB, TimeSpan.FromSeconds(2)), Throws.InstanceOf<MeshException>(), "the broker's 1 MiB limit");

        var noId = await Assert.ThrowsAsync<MeshException>(() => _caller.RequestAsync(cmd, """{"jsonrpc": "2.0", "method": "echo", "params": {"message": "hi"}}"""u8.ToArray(), TimeSpan.FromMilliseconds(500)));
        Assert.That(noId!.Kind, Is.EqualTo(MeshErrorKind.Timeout), "a notification gets no reply");

        var still = await CallAsync("""{"jsonrpc": "2.0", "id": "c", "method": "echo", "params": {"message": "still here"}}""");
        Assert.That(still.GetProperty("result").GetProperty("message").GetString(), Is.EqualTo("still here"));
    }

    [Test]
    public async Task A_flood_from_one_caller_is_told_once_a_second_then_dropped_over_its_limit_and_another_caller_is_still_served()
    {
        await using var device = await ServeAsync(new MeshDeviceOptions { CallsPerCallerPerMinute = 20, CallsPerMinute = 1000 });
        await using var other = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url) with { InboxPrefix = "_INBOX_other" }, NullLogger.Instance);
        var request = Encoding.UTF8.GetBytes("""{"jsonrpc": "2.0", "id": "f", "method": "echo", "params": {"message": "flood"}}""");

        var (answered, refusals, unanswered) = (0, new List<string>(), 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 60; i++)
        {
            try
            {
                var answer = JsonShape.Parse(await _caller.RequestAsync(MeshSubjects.Cmd(Tenant, "demo-01"), request, TimeSpan.FromMilliseconds(100)));
                if (answer.TryGetProperty("error", out var error))
                {
                    refusals.Add(error.GetProperty("message").GetString()!);
                }
                else
                {
                    answered++;
                }
            }
            catch (MeshException)
            {
                unanswered++;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var reply = JsonShape.Parse(await other.RequestAsync(MeshSubjects.Cmd(Tenant, "demo-01"), request, TimeSpan.FromSeconds(5)));

        Assert.That(answered, Is.InRange(20, 25), "about its limit");
        Assert.That(refusals, Is.Not.Empty);
        Assert.That(refusals[0], Does.StartWith("Rate limited: at most 20 calls a minute from one caller"));
        Assert.That(refusals.Count, Is.LessThanOrEqualTo((int)Math.Ceiling(seconds) + 1), "told at most once a second");
        Assert.That(unanswered, Is.GreaterThanOrEqualTo(60 - 25 - refusals.Count), "the rest of the flood is not answered");
        Assert.That(device.RateLimited, Is.EqualTo(refusals.Count + unanswered));
        Assert.That(reply.GetProperty("result").GetProperty("message").GetString(), Is.EqualTo("flood"));
    }

    [Test]
    public async Task It_registers_with_a_registry_when_one_answers_and_goes_by_presence_when_none_does()
    {
        await using (var alone = await ServeAsync())
        {
            await Eventually(() => alone.RegistryState.StartsWith("no registry", StringComparison.Ordinal));
        }
        var sample = JsonShape.Parse(JsonShape.Sample("register-device.request.json"));
        var got = new TaskCompletionSource<JsonElement>();
        using var stop = new CancellationTokenSource();
        var registry = await _caller.SubscribeLiveAsync(MeshSubjects.Registry(Tenant));
        var loop = Task.Run(async () =>
        {
            await foreach (var message in registry.ReadAllAsync(stop.Token))
            {
                var request = JsonShape.Parse(message.Data);
                got.TrySetResult(request);
                await message.ReplyAsync(Encoding.UTF8.GetBytes(JsonShape.Sample("register-device.reply.json").Replace("\"id\": \"demo-01-1768478400123\"",
                    $"\"id\": {request.GetProperty("id").GetRawText()}", StringComparison.Ordinal)));
            }
        });
        await using var device = await ServeAsync();

        var registered = await got.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually(() => device.RegistryState == "registered");
        JsonShape.AssertSame(sample, registered, values: true, "$.id", "$.params.status.ts");
        await stop.CancelAsync();
        await registry.DisposeAsync();
    }

    private static JsonElement Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return JsonShape.Parse(stream.ToArray());
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(50);
        }
    }
}
