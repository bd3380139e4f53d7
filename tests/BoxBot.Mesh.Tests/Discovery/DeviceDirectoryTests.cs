using System.Text;
using BoxBot.Mesh.Discovery;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Mesh.Tests.Discovery;

/// <summary>
/// The directory the agent and `boxbot mesh devices` read, fed the reference's own messages through a real nats-server:
/// a registry's listDevices and getDevice replies and its offline notice, and, with no registry, presence and departure.
/// A presence message is believed only for the device whose subject it came on.
/// </summary>
public sealed class DeviceDirectoryTests
{
    private const string Tenant = "default";
    private NatsServerProcess _server = null!;
    private MeshClient _box = null!;
    private MeshClient _others = null!;

    [SetUp]
    public async Task Start()
    {
        _server = await NatsServerProcess.StartOpenAsync();
        _box = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url), NullLogger.Instance);
        _others = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url), NullLogger.Instance);
    }

    [TearDown]
    public async Task Stop()
    {
        await _others.DisposeAsync();
        await _box.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<DeviceDirectory> StartDirectoryAsync()
    {
        var directory = new DeviceDirectory(_box, Tenant, NullLogger.Instance, TimeProvider.System);
        await directory.StartAsync(CancellationToken.None);
        return directory;
    }

    [Test]
    public async Task A_registrys_list_is_taken_as_it_sends_it_and_its_offline_notice_is_believed()
    {
        var asked = new List<string>();
        await using var registry = await _others.SubscribeLiveAsync(MeshSubjects.Discovery(Tenant));
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            await foreach (var request in registry.ReadAllAsync(stop.Token))
            {
                var json = JsonShape.Parse(request.Data);
                var method = json.GetProperty("method").GetString()!;
                asked.Add(method);
                var sample = method == "discovery/listDevices" ? "discovery-list-devices.reply.json"
                    : json.GetProperty("params").GetProperty("device_id").GetString() == "demo-01" ? "get-device.reply.json" : "get-device-missing.reply.json";
                // The reference's exact reply, with the id of this request as the registry would echo it.
                var reply = JsonShape.Sample(sample);
                var sampleId = JsonShape.Parse(reply).GetProperty("id").GetString()!;
                await request.ReplyAsync(Encoding.UTF8.GetBytes(reply.Replace(sampleId, json.GetProperty("id").GetString(), StringComparison.Ordinal)));
            }
        });
        await using var directory = await StartDirectoryAsync();

        var (devices, answered) = await directory.ListAsync(CancellationToken.None);

        Assert.That(answered, Is.True);
        var demo = devices.Single(d => d.DeviceId == "demo-01");
        Assert.That((demo.DeviceType, demo.Source, demo.Online), Is.EqualTo(("demo_sensor", "registry", true)));
        Assert.That(demo.Functions().Select(f => f.Name), Is.EqualTo(new[] { "echo", "fail", "sample" }));
        Assert.That(demo.Functions().Single(f => f.Name == "echo").ParametersJson, Does.Contain("\"required\": [\"message\"]").Or.Contain("\"required\":[\"message\"]"));
        Assert.That(await directory.DescribeAsync("ghost", CancellationToken.None), Is.Null, "the registry's {\"device\": null}");
        Assert.That(await directory.DescribeAsync("demo.01", CancellationToken.None), Is.Null, "an id that would split a subject is not even asked for");
        Assert.That(asked, Is.EqualTo(new[] { "discovery/listDevices", "discovery/getDevice" }));

        await _others.PublishAsync(MeshSubjects.DeviceNotice(Tenant, online: false), Encoding.UTF8.GetBytes(JsonShape.Sample("device-offline.json")));
        await WaitAsync(async () => !(await directory.ListAsync(CancellationToken.None)).Devices.Single(d => d.DeviceId == "demo-01").Online);
        await stop.CancelAsync();
    }

    [Test]
    public async Task Without_a_registry_presence_lists_a_device_only_for_its_own_subject_and_departure_takes_it_offline()
    {
        await using var directory = await StartDirectoryAsync();
        var presence = Encoding.UTF8.GetBytes(JsonShape.Sample("presence.json"));

        await _others.PublishAsync(MeshSubjects.Presence(Tenant, "demo-01"), presence);
        // Another device announcing itself as demo-01 (the payload's id is not the subject's): not believed.
        await _others.PublishAsync(MeshSubjects.Presence(Tenant, "intruder"), presence);
        await WaitAsync(async () => (await directory.ListAsync(CancellationToken.None)).Devices.Any(d => d.DeviceId == "demo-01"));

        var (devices, answered) = await directory.ListAsync(CancellationToken.None);
        Assert.That(answered, Is.False, "no registry: nobody answers discovery");
        Assert.That(devices.Select(d => d.DeviceId), Is.EqualTo(new[] { "demo-01" }));
        Assert.That((devices[0].Source, devices[0].Online, devices[0].DeviceType), Is.EqualTo(("presence", true, "demo_sensor")));

        await _others.PublishAsync(MeshSubjects.Presence(Tenant, "demo-01"), Encoding.UTF8.GetBytes(JsonShape.Sample("presence-departing.json")));
        await WaitAsync(async () => !(await directory.ListAsync(CancellationToken.None)).Devices.Single().Online);
    }

    [Test]
    public async Task A_registry_relaying_what_devices_wrote_about_themselves_cannot_break_the_list()
    {
        await using var registry = await _others.SubscribeLiveAsync(MeshSubjects.Discovery(Tenant));
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            await foreach (var request in registry.ReadAllAsync(stop.Token))
            {
                var id = JsonShape.Parse(request.Data).GetProperty("id").GetString();
                var method = JsonShape.Parse(request.Data).GetProperty("method").GetString();
                var result = method == "discovery/listDevices"
                    ? """{"devices": [1, "x", null, {"device_id": 5}, {"device_id": "a.b"}, {"device_id": "odd", "device_ttl": "soon", "identity": [], "status": "up"},""" +
                      """ {"device_id": "fine", "device_ttl": 15, "identity": {"device_type": "lamp"}}], "next_offset": "7"}"""
                    : "[]";
                await request.ReplyAsync(Encoding.UTF8.GetBytes($$"""{"jsonrpc": "2.0", "id": "{{id}}", "result": {{result}}}"""));
            }
        });
        await using var directory = await StartDirectoryAsync();

        var (devices, answered) = await directory.ListAsync(CancellationToken.None);

        Assert.That(answered, Is.True);
        Assert.That(devices.Select(d => d.DeviceId), Is.EqualTo(new[] { "fine", "odd" }), "entries that are not devices, or whose id would split a subject, are passed over");
        Assert.That(devices.Single(d => d.DeviceId == "fine").DeviceType, Is.EqualTo("lamp"));
        Assert.That(await directory.DescribeAsync("fine", CancellationToken.None), Is.Not.Null, "a result that is not an object: what is known stays");
        await stop.CancelAsync();
    }

    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await done())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(50);
        }
    }
}
