using System.Net;
using BoxBot.Sandbox.Egress;

namespace BoxBot.Sandbox.Tests;

/// <summary>
/// The egress policy's address table, at the edges of each range: the first and last address of every
/// non-public range, and public neighbours just outside, so a range that is too wide shows as well as a
/// missing one.
/// </summary>
public sealed class EgressAddressTests
{
    [TestCase("0.0.0.0"), TestCase("0.255.255.255")]
    [TestCase("10.0.0.0"), TestCase("10.255.255.255")]
    [TestCase("100.64.0.0"), TestCase("100.127.255.255")]
    [TestCase("127.0.0.1"), TestCase("127.255.255.254")]
    [TestCase("169.254.0.0"), TestCase("169.254.169.254"), TestCase("169.254.255.255")]
    [TestCase("172.16.0.0"), TestCase("172.31.255.255")]
    [TestCase("192.0.0.0"), TestCase("192.0.0.170"), TestCase("192.0.0.255")]
    [TestCase("192.0.2.1"), TestCase("192.88.99.1"), TestCase("192.168.0.0"), TestCase("192.168.255.255")]
    [TestCase("198.18.0.0"), TestCase("198.19.255.255"), TestCase("198.51.100.7"), TestCase("203.0.113.255")]
    [TestCase("224.0.0.1"), TestCase("239.255.255.255"), TestCase("240.0.0.1"), TestCase("255.255.255.255")]
    public void Reserved_IPv4_is_not_public(string address) =>
        Assert.That(PublicAddress.IsPublic(IPAddress.Parse(address)), Is.False, PublicAddress.WhyNotPublic(IPAddress.Parse(address)));

    [TestCase("::"), TestCase("::1"), TestCase("::127.0.0.1"), TestCase("::8.8.8.8")]
    [TestCase("64:ff9b::7f00:1"), TestCase("64:ff9b::808:808"), TestCase("64:ff9b:1::a00:1"), TestCase("64:ff9b:1:ffff::1")]
    [TestCase("100::1"), TestCase("100::ffff:ffff:ffff:ffff")]
    [TestCase("2001::1"), TestCase("2001:0:ffff:ffff::1"), TestCase("2001:db8::1"), TestCase("2001:db8:ffff::1")]
    [TestCase("2002::1"), TestCase("2002:7f00:1::1"), TestCase("2002:ffff::1")]
    [TestCase("fc00::1"), TestCase("fd12:3456::1"), TestCase("fdff:ffff::1")]
    [TestCase("fe80::1"), TestCase("febf:ffff::1"), TestCase("fec0::1"), TestCase("feff::1")]
    [TestCase("ff02::1"), TestCase("ff0e::1"), TestCase("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [TestCase("1fff:ffff::1"), TestCase("4000::1"), TestCase("8000::1")]
    public void Reserved_IPv6_is_not_public(string address) =>
        Assert.That(PublicAddress.IsPublic(IPAddress.Parse(address)), Is.False, PublicAddress.WhyNotPublic(IPAddress.Parse(address)));

    [TestCase("::ffff:127.0.0.1"), TestCase("::ffff:10.1.2.3"), TestCase("::ffff:169.254.169.254"), TestCase("::ffff:0.0.0.0")]
    [TestCase("::ffff:192.168.1.1"), TestCase("::ffff:255.255.255.255")]
    public void An_IPv4_mapped_address_is_judged_as_the_IPv4_address_it_carries(string address)
    {
        var mapped = IPAddress.Parse(address);
        Assert.That(mapped.IsIPv4MappedToIPv6, Is.True);
        Assert.That(PublicAddress.IsPublic(mapped), Is.False);
        Assert.That(PublicAddress.WhyNotPublic(mapped), Is.EqualTo(PublicAddress.WhyNotPublic(mapped.MapToIPv4())));
    }

    [TestCase("1.1.1.1"), TestCase("8.8.8.8"), TestCase("9.255.255.255"), TestCase("11.0.0.0")]
    [TestCase("100.63.255.255"), TestCase("100.128.0.0"), TestCase("126.255.255.255"), TestCase("128.0.0.0")]
    [TestCase("169.253.255.255"), TestCase("169.255.0.0"), TestCase("172.15.255.255"), TestCase("172.32.0.0")]
    [TestCase("192.0.1.0"), TestCase("192.0.3.0"), TestCase("192.88.98.255"), TestCase("192.167.255.255"), TestCase("192.169.0.0")]
    [TestCase("198.17.255.255"), TestCase("198.20.0.0"), TestCase("198.51.99.255"), TestCase("203.0.112.255"), TestCase("203.0.114.0")]
    [TestCase("223.255.255.255")]
    [TestCase("2001:4860:4860::8888"), TestCase("2606:4700:4700::1111"), TestCase("2000::1"), TestCase("2001:1::1")]
    [TestCase("2001:db7:ffff::1"), TestCase("2001:db9::1"), TestCase("2003::1"), TestCase("3fff:ffff::1")]
    [TestCase("::ffff:8.8.8.8")]
    public void Globally_routable_unicast_is_public(string address) =>
        Assert.That(PublicAddress.WhyNotPublic(IPAddress.Parse(address)), Is.Null);

    [Test]
    public void A_public_address_with_a_scope_id_is_not_public()
    {
        var scoped = new IPAddress(IPAddress.Parse("2606:4700:4700::1111").GetAddressBytes(), scopeid: 2);
        Assert.That(PublicAddress.IsPublic(scoped), Is.False);
        Assert.That(PublicAddress.WhyNotPublic(scoped), Does.Contain("scope"));
    }

    [Test]
    public void Reasons_name_the_range()
    {
        Assert.That(PublicAddress.WhyNotPublic(IPAddress.Parse("127.0.0.1")), Is.EqualTo("loopback"));
        Assert.That(PublicAddress.WhyNotPublic(IPAddress.Parse("10.0.0.1")), Is.EqualTo("private"));
        Assert.That(PublicAddress.WhyNotPublic(IPAddress.Parse("64:ff9b::a00:1")), Does.StartWith("NAT64"));
        Assert.That(PublicAddress.WhyNotPublic(IPAddress.Parse("4000::1")), Does.Contain("2000::/3"));
    }
}
