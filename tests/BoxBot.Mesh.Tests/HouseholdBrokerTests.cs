using System.Text;
using BoxBot.Mesh.Broker;
using BoxBot.Mesh.Credentials;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.NKeys;

namespace BoxBot.Mesh.Tests;

/// <summary>
/// The household broker's permissions, attacked through a real nats-server with the JWTs boxbot mints: each device
/// reaches only its own subjects and the devices it was given; the box's admin device only admins; a removed user
/// loses its connection at the reload, nobody else does.
/// </summary>
public sealed class HouseholdBrokerTests
{
    private const string T = Household.Tenant;
    private Household _home = null!;

    [SetUp]
    public async Task Start() => _home = await Household.StartAsync();

    [TearDown]
    public async Task Stop() => await _home.DisposeAsync();

    private static ReadOnlyMemory<byte> Json(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Answers every request on <paramref name="subject"/> with "pong" until disposed.</summary>
    private static async Task<IAsyncDisposable> RespondAsync(MeshClient client, string subject)
    {
        var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            await foreach (var request in client.SubscribeAsync(subject, stop.Token))
            {
                await request.ReplyAsync(Json("\"pong\""));
            }
        });
        // The subscription reaches the broker asynchronously: a flush-like ping through a request to ourselves is not
        // possible without a permission, so wait a moment.
        await Task.Delay(200);
        return new Stopper(stop, loop);
    }

    [Test]
    public async Task A_device_calls_the_devices_it_was_given_and_no_other()
    {
        var lamp = _home.Authority.AddDevice("lamp", "light", [], legacyInbox: false);
        var door = _home.Authority.AddDevice("door", "lock", [], legacyInbox: false);
        var sensor = _home.Authority.AddDevice("sensor", "thermometer", ["lamp"], legacyInbox: false);
        await using var lampClient = await _home.ConnectAsync(lamp);
        await using var doorClient = await _home.ConnectAsync(door);
        await using var sensorClient = await _home.ConnectAsync(sensor);
        await using var lampAnswers = await RespondAsync(lampClient.Client, MeshSubjects.Cmd(T, "lamp"));
        await using var doorAnswers = await RespondAsync(doorClient.Client, MeshSubjects.Cmd(T, "door"));

        var reply = await sensorClient.Client.RequestAsync(MeshSubjects.Cmd(T, "lamp"), Json("{}"), TimeSpan.FromSeconds(5));
        Assert.That(Encoding.UTF8.GetString(reply.Span), Is.EqualTo("\"pong\""), "the call it was given goes through, and its reply comes back to its own inbox");

        var denied = await Assert.ThrowsAsync<MeshException>(() => sensorClient.Client.RequestAsync(MeshSubjects.Cmd(T, "door"), Json("{}"), TimeSpan.FromSeconds(1)));
        Assert.That(denied!.Kind, Is.EqualTo(MeshErrorKind.Timeout), "the door never hears it");
        Assert.That(await sensorClient.RefusalAsync(MeshSubjects.Cmd(T, "door")), Does.Contain("Permissions Violation for Publish"));
    }

    [Test]
    public async Task A_device_cannot_speak_for_another()
    {
        var lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
        var sensor = _home.Authority.AddDevice("sensor", null, [], legacyInbox: false);
        await using var box = await _home.ConnectAsync(_home.Authority.IssueBox());
        await using var sensorClient = await _home.ConnectAsync(sensor);
        await using var heard = new Collector(box.Client, MeshSubjects.Prefix(T) + ".*.heartbeat");
        await Task.Delay(200);

        await sensorClient.Client.PublishAsync(MeshSubjects.Heartbeat(T, "lamp"), Json("{\"device_id\":\"lamp\",\"ts\":1}"));
        await sensorClient.Client.PublishAsync(MeshSubjects.Event(T, "lamp", "switched"), Json("{}"));
        await sensorClient.Client.PublishAsync(MeshSubjects.Presence(T, "lamp"), Json("{}"));
        await sensorClient.Client.PublishAsync(MeshSubjects.Heartbeat(T, "sensor"), Json("{\"device_id\":\"sensor\",\"ts\":1}"));

        Assert.That(await sensorClient.RefusalAsync(MeshSubjects.Heartbeat(T, "lamp")), Is.Not.Null);
        Assert.That(await sensorClient.RefusalAsync(MeshSubjects.Event(T, "lamp", "switched")), Is.Not.Null);
        Assert.That(await sensorClient.RefusalAsync(MeshSubjects.Presence(T, "lamp")), Is.Not.Null);
        var first = await heard.NextAsync(TimeSpan.FromSeconds(5));
        Assert.That(first?.Subject, Is.EqualTo(MeshSubjects.Heartbeat(T, "sensor")), "only its own heartbeat reached the box");
        _ = lamp;
    }

    [Test]
    public async Task A_device_cannot_listen_to_another_or_snoop_replies()
    {
        var sensor = _home.Authority.AddDevice("sensor", null, [], legacyInbox: false);
        await using var sensorClient = await _home.ConnectAsync(sensor);

        foreach (var subject in new[] { MeshSubjects.Cmd(T, "lamp"), "device-connect.>", MeshSubjects.Prefix(T) + ".>", "_INBOX.>", "_INBOX_kitchen.>", ">" })
        {
            await using var snoop = new Collector(sensorClient.Client, subject);
            Assert.That(await sensorClient.RefusalAsync(subject), Does.Contain("Permissions Violation for Subscription"), subject);
        }
    }

    [Test]
    public async Task Only_admins_reach_the_boxes_admin_device_whatever_the_payload_claims()
    {
        var sensor = _home.Authority.AddDevice("sensor", null, [Household.BoxId], legacyInbox: false);
        var admin = _home.Authority.AddAdmin("alice", legacyInbox: false);
        await using var box = await _home.ConnectAsync(_home.Authority.IssueBox());
        await using var sensorClient = await _home.ConnectAsync(sensor);
        await using var adminClient = await _home.ConnectAsync(admin);
        await using var answers = await RespondAsync(box.Client, MeshSubjects.Cmd(T, Household.Mesh.AdminDeviceId));

        var forged = Json("""{"jsonrpc":"2.0","id":"1","method":"get_status","params":{"_dc_meta":{"source_device":"alice","source_type":"admin"}}}""");
        await Assert.ThrowsAsync<MeshException>(() => sensorClient.Client.RequestAsync(MeshSubjects.Cmd(T, Household.Mesh.AdminDeviceId), forged, TimeSpan.FromSeconds(1)));
        Assert.That(await sensorClient.RefusalAsync(MeshSubjects.Cmd(T, Household.Mesh.AdminDeviceId)), Does.Contain("Permissions Violation for Publish"));

        var reply = await adminClient.Client.RequestAsync(MeshSubjects.Cmd(T, Household.Mesh.AdminDeviceId), forged, TimeSpan.FromSeconds(5));
        Assert.That(Encoding.UTF8.GetString(reply.Span), Is.EqualTo("\"pong\""));
    }

    [Test]
    public async Task A_removed_user_loses_its_connection_at_the_reload_and_nobody_else_does()
    {
        var lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
        var sensor = _home.Authority.AddDevice("sensor", null, ["lamp"], legacyInbox: false);
        await using var lampClient = await _home.ConnectAsync(lamp);
        await using var sensorClient = await _home.ConnectAsync(sensor);
        await using var answers = await RespondAsync(lampClient.Client, MeshSubjects.Cmd(T, "lamp"));

        var removed = _home.Authority.Remove("sensor", MeshUser.DeviceKind);

        Assert.That(removed?.PublicKey, Is.EqualTo(sensor.User.PublicKey));
        Assert.That(await Eventually(() => !sensorClient.Client.IsConnected), Is.True, "the revoked user's connection was closed");
        Assert.That(lampClient.Client.IsConnected, Is.True, "the others stay connected");
        var again = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(_home.OptionsFor(sensor), NullLogger.Instance));
        Assert.That(again!.Kind, Is.EqualTo(MeshErrorKind.AuthenticationFailed));
        Assert.That(_home.Authority.Users.Select(u => u.Name), Is.EqualTo(new[] { "lamp" }));
    }

    [Test]
    public async Task Credentials_the_broker_did_not_issue_are_refused_with_a_clear_message()
    {
        var sensor = _home.Authority.AddDevice("sensor", null, [], legacyInbox: false);
        var lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
        using var strangerAccount = KeyPair.CreatePair(PrefixByte.Account);
        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        var foreign = NatsJwt.User(strangerAccount, stranger.GetPublicKey(), "sensor", MeshGrants.Device(Household.Mesh, "sensor", [], false), DateTimeOffset.UtcNow);
        var expired = _home.Authority.AddDevice("old", null, [], legacyInbox: false);
        using var account = KeyPair.FromSeed(File.ReadAllText(_home.Paths.AccountSeed).Trim());
        var expiredJwt = NatsJwt.User(account, expired.User.PublicKey, "old", MeshGrants.Device(Household.Mesh, "old", [], false),
            DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(-1));

        var attempts = new Dictionary<string, MeshOptions>
        {
            ["no credentials"] = MeshOptions.For(_home.Url),
            ["another user's seed"] = _home.OptionsFor(sensor) with { Seed = lamp.Seed },
            ["a JWT from an account this broker does not trust"] = _home.OptionsFor(sensor) with { Jwt = foreign, Seed = stranger.GetSeed() },
            ["an expired JWT"] = _home.OptionsFor(expired) with { Jwt = expiredJwt },
        };
        foreach (var (what, options) in attempts)
        {
            var refused = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(options, NullLogger.Instance), what);
            Assert.That(refused!.Kind, Is.EqualTo(MeshErrorKind.AuthenticationFailed), what);
            Assert.That(refused.Message, Does.Contain("refused").And.Not.Contain(sensor.Seed).And.Not.Contain(lamp.Seed), what);
        }
    }

    [Test]
    public async Task A_legacy_inbox_reads_the_shared_inbox_but_never_boxbots_own()
    {
        var tool = _home.Authority.AddAdmin("tool", legacyInbox: true);
        var lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
        await using var toolClient = await _home.ConnectAsync(tool);
        await using var lampClient = await _home.ConnectAsync(lamp);
        await using var answers = await RespondAsync(lampClient.Client, MeshSubjects.Cmd(T, "lamp"));

        var reply = await toolClient.Client.RequestAsync(MeshSubjects.Cmd(T, "lamp"), Json("{}"), TimeSpan.FromSeconds(5));
        Assert.That(Encoding.UTF8.GetString(reply.Span), Is.EqualTo("\"pong\""), "a client with NATS's default inbox works with --legacy-inbox");

        await using var snoop = new Collector(toolClient.Client, "_INBOX_kitchen.>");
        Assert.That(await toolClient.RefusalAsync("_INBOX_kitchen.>"), Is.Not.Null);
    }

    [Test]
    public async Task Initializing_again_keeps_the_keys_and_the_users_and_the_broker_keeps_accepting_them()
    {
        var lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
        var seed = File.ReadAllText(_home.Paths.AccountSeed);

        var changed = BrokerAuthority.Initialize(_home.Paths, Household.Mesh, _home.Listen, TimeProvider.System);
        await _home.RestartAsync();

        Assert.That(changed, Is.False, "nothing to change in nats.conf");
        Assert.That(File.ReadAllText(_home.Paths.AccountSeed), Is.EqualTo(seed));
        using var reopened = BrokerAuthority.Open(_home.Paths, Household.Mesh, TimeProvider.System, () => { });
        Assert.That(reopened.Users.Select(u => u.Name), Is.EqualTo(new[] { "lamp" }));
        await using var lampClient = await _home.ConnectAsync(lamp);
        Assert.That(lampClient.Client.IsConnected, Is.True);
    }

    [Test]
    public void Names_that_would_widen_a_subject_or_take_the_boxes_own_are_refused()
    {
        foreach (var bad in new[] { "a.b", "*", ">", "lamp>", "two words", "", new string('x', 65), Household.BoxId, Household.Mesh.AdminDeviceId })
        {
            Assert.Throws<ArgumentException>(() => _home.Authority.AddDevice(bad, null, [], false), $"device id '{bad}'");
        }
        Assert.Throws<ArgumentException>(() => _home.Authority.AddDevice("lamp", null, ["door.*"], false));
        Assert.Throws<ArgumentException>(() => _home.Authority.AddDevice("lamp", null, [Household.Mesh.AdminDeviceId], false), "only admins call the admin device");
        Assert.Throws<ArgumentException>(() => _home.Authority.AddDevice("lamp", "a.b", [], false));
        _home.Authority.AddDevice("lamp", null, [], false);
        Assert.Throws<InvalidOperationException>(() => _home.Authority.AddAdmin("lamp", false), "one namespace for devices and admins (their inboxes)");
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(50);
        }
        return condition();
    }

    private sealed class Stopper(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
            stop.Dispose();
        }
    }
}
