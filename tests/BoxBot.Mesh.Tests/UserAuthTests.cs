using System.Text;

namespace BoxBot.Mesh.Tests;

/// <summary>User/password auth and broker permissions against a real nats-server.</summary>
public sealed class UserAuthTests
{
    private const string Tenant = "acme";
    private const string HubPassword = "hub-pass-7c1f0e";
    private const string Dev1Password = "dev1-pass-93ab51";

    // "hub" may do anything; "dev1" may publish only on its own device subjects and the registry,
    // listen only on its own cmd subject, and answer requests it received (allow_responses).
    private const string Authorization = """
          users = [
            { user: "hub", password: "hub-pass-7c1f0e", permissions: { publish: ">", subscribe: ">" } }
            { user: "dev1", password: "dev1-pass-93ab51", permissions: {
                publish: { allow: ["device-connect.acme.dev1.>", "device-connect.acme.registry"] }
                subscribe: { allow: ["device-connect.acme.dev1.cmd", "_INBOX.>"] }
                allow_responses: true
            } }
          ]
        """;

    private NatsServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await NatsServerProcess.StartAsync(Authorization);

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task A_user_with_the_right_password_connects_and_receives_what_it_subscribed_to()
    {
        await using var hub = await ConnectAsync("hub", HubPassword);
        await using var dev1 = await ConnectAsync("dev1", Dev1Password);
        Assert.That(hub.IsConnected, Is.True);

        await using var heard = new Collector(hub, $"{MeshSubjects.Root}.{Tenant}.>");
        await heard.WaitUntilLiveAsync(hub, $"{MeshSubjects.Root}.{Tenant}.probe");
        await dev1.PublishAsync(MeshSubjects.Heartbeat(Tenant, "dev1"), "beat-1"u8.ToArray());

        var msg = await heard.NextAsync(TimeSpan.FromSeconds(5));
        Assert.That(msg, Is.Not.Null, "the heartbeat never arrived");
        Assert.That(msg!.Subject, Is.EqualTo("device-connect.acme.dev1.heartbeat"));
        Assert.That(Collector.Text(msg), Is.EqualTo("beat-1"));
        Assert.That(msg.ReplyTo, Is.Null);
    }

    [Test]
    public async Task A_request_on_a_device_cmd_subject_gets_the_device_reply()
    {
        await using var hub = await ConnectAsync("hub", HubPassword);
        await using var dev1 = await ConnectAsync("dev1", Dev1Password);
        using var stop = new CancellationTokenSource();
        var responder = Task.Run(async () =>
        {
            await foreach (var request in dev1.SubscribeAsync(MeshSubjects.Cmd(Tenant, "dev1"), stop.Token))
            {
                Assert.That(request.ReplyTo, Is.Not.Null);
                await request.ReplyAsync(Encoding.UTF8.GetBytes("pong:" + Collector.Text(request)));
            }
        });

        var reply = await RequestWhenServedAsync(hub, MeshSubjects.Cmd(Tenant, "dev1"), "ping");

        Assert.That(Encoding.UTF8.GetString(reply.Span), Is.EqualTo("pong:ping"));
        await stop.CancelAsync();
        await responder;
    }

    [Test]
    public async Task A_wrong_password_is_refused_with_an_error_that_does_not_contain_the_password()
    {
        const string wrong = "not-the-password-4411";
        var log = new CapturingLogger();

        var ex = await Assert.ThrowsAsync<MeshException>(async () =>
            await MeshClient.ConnectAsync(Options("dev1", wrong), log));

        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.AuthenticationFailed), ex.ToString());
        Assert.That(ex.Message, Does.Contain("dev1"));
        Assert.That(ex.ToString(), Does.Not.Contain(wrong));
        Assert.That(log.AllText, Does.Not.Contain(wrong));
    }

    [Test]
    public async Task A_device_user_cannot_publish_on_another_device_subjects()
    {
        await using var hub = await ConnectAsync("hub", HubPassword);
        var dev1Log = new CapturingLogger();
        await using var dev1 = await MeshClient.ConnectAsync(Options("dev1", Dev1Password), dev1Log);
        await using var heard = new Collector(hub, $"{MeshSubjects.Root}.{Tenant}.>");
        await heard.WaitUntilLiveAsync(hub, $"{MeshSubjects.Root}.{Tenant}.probe");

        // Publishes from one connection arrive in order: if the forged one got through, it would come first.
        await dev1.PublishAsync(MeshSubjects.Heartbeat(Tenant, "dev2"), "forged"u8.ToArray());
        await dev1.PublishAsync(MeshSubjects.Event(Tenant, "dev2", "safety_event"), "forged"u8.ToArray());
        await dev1.PublishAsync(MeshSubjects.Heartbeat(Tenant, "dev1"), "genuine"u8.ToArray());

        var first = await heard.NextAsync(TimeSpan.FromSeconds(5));
        Assert.That(first?.Subject, Is.EqualTo("device-connect.acme.dev1.heartbeat"), Collector.Text(first));
        Assert.That(Collector.Text(first), Is.EqualTo("genuine"));
        Assert.That(await heard.NextAsync(TimeSpan.FromMilliseconds(300)), Is.Null);
        Assert.That(await dev1Log.WaitForAsync(MeshLogEvents.PermissionDenied, TimeSpan.FromSeconds(5)), Is.True,
            "the broker's permissions violation was not surfaced in the log:\n" + dev1Log.AllText);
        Assert.That(dev1Log.AllText, Does.Contain("device-connect.acme.dev2"));
    }

    [Test]
    public async Task A_device_user_cannot_send_commands_to_another_device()
    {
        await using var hub = await ConnectAsync("hub", HubPassword);
        await using var dev1 = await ConnectAsync("dev1", Dev1Password);
        var dev2Cmd = MeshSubjects.Cmd(Tenant, "dev2");
        var served = 0;
        using var stop = new CancellationTokenSource();
        var responder = Task.Run(async () =>
        {
            await foreach (var request in hub.SubscribeAsync(dev2Cmd, stop.Token))
            {
                Interlocked.Increment(ref served);
                await request.ReplyAsync("done"u8.ToArray());
            }
        });

        // The responder works for a caller that may reach it ...
        Assert.That(Encoding.UTF8.GetString((await RequestWhenServedAsync(hub, dev2Cmd, "from-hub")).Span), Is.EqualTo("done"));

        // ... but the broker drops dev1's request, whatever dev1 puts in the payload.
        var ex = await Assert.ThrowsAsync<MeshException>(async () =>
            await dev1.RequestAsync(dev2Cmd, "{\"caller\":\"hub\"}"u8.ToArray(), TimeSpan.FromMilliseconds(500)));
        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.Timeout));
        Assert.That(served, Is.EqualTo(1));

        await stop.CancelAsync();
        await responder;
    }

    [Test]
    public async Task A_request_nobody_serves_fails_with_no_responders()
    {
        await using var hub = await ConnectAsync("hub", HubPassword);

        var ex = await Assert.ThrowsAsync<MeshException>(async () =>
            await hub.RequestAsync(MeshSubjects.Cmd(Tenant, "nobody"), "ping"u8.ToArray(), TimeSpan.FromSeconds(5)));

        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.NoResponders));
        Assert.That(ex.Message, Does.Contain("device-connect.acme.nobody.cmd"));
    }

    [Test]
    public async Task An_unreachable_broker_fails_with_a_clear_error()
    {
        var closed = NatsServerProcess.FreeLoopbackPort();
        var options = Options("hub", HubPassword) with { Url = new Uri($"nats://127.0.0.1:{closed}"), ConnectTimeout = TimeSpan.FromSeconds(2) };

        var ex = await Assert.ThrowsAsync<MeshException>(async () => await MeshClient.ConnectAsync(options, new CapturingLogger()));

        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.Unreachable), ex.ToString());
        Assert.That(ex.Message, Does.Contain($"127.0.0.1:{closed}"));
        Assert.That(ex.ToString(), Does.Not.Contain(HubPassword));
    }

    [TestCase("device-connect.acme.*.cmd")]
    [TestCase("device-connect.acme.>")]
    [TestCase("device-connect.acme.dev1 .cmd")]
    [TestCase("device-connect..cmd")]
    public async Task Publishing_or_requesting_on_a_pattern_or_malformed_subject_is_refused_before_sending(string subject)
    {
        await using var hub = await ConnectAsync("hub", HubPassword);

        await Assert.ThrowsAsync<ArgumentException>(async () => await hub.PublishAsync(subject, "x"u8.ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(async () => await hub.RequestAsync(subject, "x"u8.ToArray(), TimeSpan.FromSeconds(1)));
        Assert.That(hub.IsConnected, Is.True);
    }

    [Test]
    public async Task Dispose_twice_is_harmless_and_later_calls_are_refused()
    {
        var hub = await ConnectAsync("hub", HubPassword);

        await hub.DisposeAsync();
        await hub.DisposeAsync();

        Assert.That(hub.IsConnected, Is.False);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
            await hub.PublishAsync(MeshSubjects.Heartbeat(Tenant, "dev1"), "x"u8.ToArray()));
    }

    private MeshOptions Options(string user, string password) =>
        MeshOptions.For(_server.Url) with { User = user, Password = password, Name = "mesh-test-" + user };

    private Task<MeshClient> ConnectAsync(string user, string password) =>
        MeshClient.ConnectAsync(Options(user, password), new CapturingLogger());

    /// <summary>Subscriptions register asynchronously: retry while the broker still says nobody listens.</summary>
    private static async Task<ReadOnlyMemory<byte>> RequestWhenServedAsync(MeshClient client, string subject, string payload)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                return await client.RequestAsync(subject, Encoding.UTF8.GetBytes(payload), TimeSpan.FromSeconds(5));
            }
            catch (MeshException ex) when (ex.Kind == MeshErrorKind.NoResponders && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
