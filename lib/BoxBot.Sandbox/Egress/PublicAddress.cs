using System.Net;
using System.Net.Sockets;

namespace BoxBot.Sandbox.Egress;

/// <summary>
/// Which addresses a job may reach through the egress proxy: globally routable unicast only. Everything else
/// is the box itself, the LAN, a provider's internal network (cloud metadata at 169.254.169.254, CGNAT), a
/// translation prefix that leads back to any of those (NAT64, 6to4, Teredo), or not unicast at all.
/// One table, first match wins; the reason it gives is what refusals and the docs say.
/// </summary>
public static class PublicAddress
{
    // IPv6 is decided by an allow-list in effect: the last three rows refuse everything outside 2000::/3
    // (the only space IANA allocates for global unicast), so a special range IANA adds later inside the
    // other seven eighths is refused without a change here. The named rows before them give the reason.
    private static readonly (IPNetwork Range, string Why)[] NonPublic =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "\"this\" network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (CGNAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata lives here)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation (TEST-NET-1)"),
        (IPNetwork.Parse("192.88.99.0/24"), "6to4 relay anycast"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation (TEST-NET-2)"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation (TEST-NET-3)"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved or broadcast"),

        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("::/96"), "IPv4-compatible (deprecated)"),
        (IPNetwork.Parse("64:ff9b::/96"), "NAT64 (leads to any IPv4 address, private ones included)"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "local-use NAT64"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("2001::/32"), "Teredo (leads to any IPv4 address)"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("2002::/16"), "6to4 (leads to any IPv4 address)"),
        (IPNetwork.Parse("fc00::/7"), "unique local (private)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local (deprecated)"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
        (IPNetwork.Parse("::/3"), "outside global unicast 2000::/3"),
        (IPNetwork.Parse("4000::/2"), "outside global unicast 2000::/3"),
        (IPNetwork.Parse("8000::/1"), "outside global unicast 2000::/3"),
    ];

    /// <summary>True only for a globally routable unicast address without a scope id.</summary>
    public static bool IsPublic(IPAddress address) => WhyNotPublic(address) is null;

    /// <summary>
    /// Null for a public address, else why it is not (<c>"loopback"</c>, <c>"private"</c>, …). An IPv4-mapped
    /// IPv6 address (<c>::ffff:a.b.c.d</c>) is judged as the IPv4 address it carries, since that is where a
    /// dual-stack socket connects.
    /// </summary>
    public static string? WhyNotPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6)
        {
            return WhyNotPublic(address.MapToIPv4());
        }
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return "not an IP address";
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            // A scope id names an interface of this box: only link-local and site-local addresses have one.
            return "scoped to an interface";
        }
        foreach (var (range, why) in NonPublic)
        {
            if (range.Contains(address))
            {
                return why;
            }
        }
        return null;
    }
}
