using BoxBot.Config;
using BoxBot.Mesh.Broker;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Mesh.Tests;

/// <summary>
/// The household broker on the LAN (TLS required, a certificate from the box's own CA), and the client's checks of it:
/// the CA, the validity, the host name (which the reference turns off), each refusal saying which.
/// </summary>
public sealed class BrokerTlsTests
{
    private Household _home = null!;
    private IssuedUser _lamp = null!;

    [SetUp]
    public async Task Start()
    {
        _home = await Household.StartAsync(lan: true);
        _lamp = _home.Authority.AddDevice("lamp", null, [], legacyInbox: false);
    }

    [TearDown]
    public async Task Stop() => await _home.DisposeAsync();

    private Uri Tls(string host) => new($"tls://{host}:{_home.Listen.Port}");

    [Test]
    public async Task A_client_with_the_boxes_CA_connects_by_a_name_the_certificate_holds()
    {
        Assert.That(_home.Url.Scheme, Is.EqualTo("tls"));
        await using var client = await MeshClient.ConnectAsync(_home.OptionsFor(_lamp), NullLogger.Instance);
        await using var byName = await MeshClient.ConnectAsync(_home.OptionsFor(_lamp, Tls("localhost")), NullLogger.Instance);
        Assert.That(client.IsConnected && byName.IsConnected, Is.True);
    }

    [Test]
    public async Task Another_CA_is_refused_naming_the_CA()
    {
        using var other = MeshCertificates.CreateAuthority("someone else", DateTimeOffset.UtcNow);
        var options = _home.OptionsFor(_lamp) with { CaPem = MeshCertificates.ToPem(other).Certificate };

        var refused = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(options, NullLogger.Instance));

        Assert.That(refused!.Kind, Is.EqualTo(MeshErrorKind.TlsRejected));
        Assert.That(refused.Message, Does.Contain("not signed by the configured CA"));
    }

    [Test]
    public async Task A_host_name_the_certificate_does_not_hold_is_refused_naming_the_host()
    {
        // 127.0.0.2 reaches the same broker (it listens on every address) but is not in its certificate.
        var refused = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(_home.OptionsFor(_lamp, Tls("127.0.0.2")), NullLogger.Instance));

        Assert.That(refused!.Kind, Is.EqualTo(MeshErrorKind.TlsRejected));
        Assert.That(refused.Message, Does.Contain("does not name host '127.0.0.2'").And.Contain("kitchen.local"));
    }

    [Test]
    public async Task An_expired_certificate_is_refused_saying_so()
    {
        // A CA from three years ago that issued a two-year certificate then.
        var past = DateTimeOffset.UtcNow.AddYears(-3);
        using var ca = MeshCertificates.CreateAuthority("old", past.AddDays(-2));
        using var stale = MeshCertificates.IssueServer(ca, ["localhost"], [System.Net.IPAddress.Loopback], past);
        var (certificate, key) = MeshCertificates.ToPem(stale);
        AtomicFile.WriteAllText(_home.Paths.ServerCertificate, certificate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.WriteAllText(_home.Paths.ServerKey, key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await _home.RestartAsync();

        var options = _home.OptionsFor(_lamp) with { CaPem = MeshCertificates.ToPem(ca).Certificate };
        var refused = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(options, NullLogger.Instance));

        Assert.That(refused!.Kind, Is.EqualTo(MeshErrorKind.TlsRejected));
        Assert.That(refused.Message, Does.Contain("outside its validity"));
        Assert.That(_home.Authority.EnsureServerCertificate(_home.Listen), Is.True, "the box issues a fresh one");
    }

    [Test]
    public void A_tls_url_without_a_CA_is_refused_before_connecting()
    {
        var options = _home.OptionsFor(_lamp) with { CaPem = null };
        var refused = Assert.ThrowsAsync<ArgumentException>(() => MeshClient.ConnectAsync(options, NullLogger.Instance));
        Assert.That(refused, Is.Not.Null);
    }

    [Test]
    public async Task A_plaintext_client_cannot_use_the_LAN_broker()
    {
        var options = _home.OptionsFor(_lamp, new Uri($"nats://127.0.0.1:{_home.Listen.Port}")) with { CaPem = null };

        var refused = await Assert.ThrowsAsync<MeshException>(() => MeshClient.ConnectAsync(options, NullLogger.Instance));

        Assert.That(refused!.Kind, Is.Not.EqualTo(MeshErrorKind.AuthenticationFailed), refused.Message);
    }
}
