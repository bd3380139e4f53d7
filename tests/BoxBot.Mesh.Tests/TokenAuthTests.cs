namespace BoxBot.Mesh.Tests;

/// <summary>Token auth against a real nats-server (a server takes either a token or users, so it gets its own).</summary>
public sealed class TokenAuthTests
{
    private const string Token = "mesh-token-2b8d41f0";

    private NatsServerProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await NatsServerProcess.StartAsync($"  token: \"{Token}\"");

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task The_right_token_connects_and_messages_flow()
    {
        await using var client = await MeshClient.ConnectAsync(MeshOptions.For(_server.Url) with { Token = Token }, new CapturingLogger());
        Assert.That(client.IsConnected, Is.True);
        await using var heard = new Collector(client, "device-connect.acme.>");
        await heard.WaitUntilLiveAsync(client, "device-connect.acme.probe");

        await client.PublishAsync(MeshSubjects.Presence("acme", "box-1"), "here"u8.ToArray());

        var msg = await heard.NextAsync(TimeSpan.FromSeconds(5));
        Assert.That(msg?.Subject, Is.EqualTo("device-connect.acme.box-1.presence"));
        Assert.That(Collector.Text(msg), Is.EqualTo("here"));
    }

    [Test]
    public async Task A_wrong_token_is_refused_without_echoing_it()
    {
        const string wrong = "wrong-token-77c3";
        var log = new CapturingLogger();

        var ex = await Assert.ThrowsAsync<MeshException>(async () =>
            await MeshClient.ConnectAsync(MeshOptions.For(_server.Url) with { Token = wrong }, log));

        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.AuthenticationFailed), ex.ToString());
        Assert.That(ex.ToString(), Does.Not.Contain(wrong));
        Assert.That(log.AllText, Does.Not.Contain(wrong));
    }

    [Test]
    public async Task No_credentials_are_refused_when_the_broker_wants_a_token()
    {
        var ex = await Assert.ThrowsAsync<MeshException>(async () =>
            await MeshClient.ConnectAsync(MeshOptions.For(_server.Url), new CapturingLogger()));

        Assert.That(ex!.Kind, Is.EqualTo(MeshErrorKind.AuthenticationFailed), ex.ToString());
    }
}
