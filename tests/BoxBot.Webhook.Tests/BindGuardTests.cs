using System.Net;
using System.Net.Sockets;
using BoxBot.Config;

namespace BoxBot.Webhook.Tests;

public class BindGuardTests
{
    private static WebhookOptions At(string address, bool allowPublic = false) => WebhookOptions.Default with { ListenAddress = address, AllowPublicBind = allowPublic };

    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.53")]
    [TestCase("::1")]
    public void A_loopback_address_is_bound_as_it_is(string address)
    {
        Assert.That(BindGuard.Resolve(At(address), "b.toml"), Is.EqualTo(new[] { IPAddress.Parse(address) }));
    }

    [TestCase("0.0.0.0", "0.0.0.0 means every network interface")]
    [TestCase("::", ":: means every network interface")]
    [TestCase("192.168.1.20", "192.168.1.20 is not a loopback address")]
    [TestCase("203.0.113.5", "203.0.113.5 is not a loopback address")]
    [TestCase("fe80::1", "fe80::1 is not a loopback address")]
    public void An_address_that_is_not_loopback_is_refused_with_why_where_and_how(string address, string why)
    {
        var e = Assert.Throws<BindRefusedException>(() => BindGuard.Resolve(At(address), "/etc/boxbot/boxbot.toml"))!;

        Assert.That(e.Message, Does.Contain($"webhook.listen_address = \"{address}\" (/etc/boxbot/boxbot.toml)").And.Contain(why)
            .And.Contain("allow_public_bind = true").And.Contain("docs/whatsapp.md"));
    }

    [Test]
    public void A_host_name_is_refused_when_any_address_it_resolves_to_is_not_loopback()
    {
        IPAddress[] Resolve(string _) => [IPAddress.Loopback, IPAddress.Parse("192.168.1.20")];

        var e = Assert.Throws<BindRefusedException>(() => BindGuard.Resolve(At("box.lan"), "b.toml", Resolve))!;

        Assert.That(e.Message, Does.Contain("it resolves to 192.168.1.20, which is not loopback"));
    }

    [Test]
    public void A_host_name_that_resolves_to_loopback_only_binds_each_address()
    {
        IPAddress[] Resolve(string _) => [IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Parse("::ffff:127.0.0.1"), IPAddress.Loopback];

        Assert.That(BindGuard.Resolve(At("localhost"), "b.toml", Resolve), Has.Count.EqualTo(3));
    }

    [Test]
    public void A_host_name_that_does_not_resolve_says_so()
    {
        IPAddress[] Resolve(string _) => throw new SocketException((int)SocketError.HostNotFound);

        var e = Assert.Throws<BindRefusedException>(() => BindGuard.Resolve(At("nowhere.invalid"), "b.toml", Resolve))!;

        Assert.That(e.Message, Does.Contain("webhook.listen_address = \"nowhere.invalid\" (b.toml) does not resolve"));
    }

    [Test]
    public void Allow_public_bind_lets_an_exposed_address_through()
    {
        Assert.That(BindGuard.Resolve(At("0.0.0.0", allowPublic: true), "b.toml"), Is.EqualTo(new[] { IPAddress.Any }));
    }
}
