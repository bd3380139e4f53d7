using System.Net;
using System.Net.Sockets;
using BoxBot.Config;

namespace BoxBot.Webhook;

/// <summary>
/// The webhook speaks plain HTTP: TLS ends at a reverse proxy or tunnel on the same machine. So it binds loopback
/// addresses only, unless the configuration says <c>allow_public_bind = true</c> on purpose.
/// </summary>
public static class BindGuard
{
    /// <summary>
    /// The addresses to bind for <paramref name="options"/>: the literal address, or every address its host name
    /// resolves to.
    /// </summary>
    /// <exception cref="BindRefusedException">An address is not loopback and public binds are not allowed, or the name does not resolve.</exception>
    public static IReadOnlyList<IPAddress> Resolve(WebhookOptions options, string configPath, Func<string, IPAddress[]>? resolve = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = options.ListenAddress;
        IPAddress[] addresses;
        if (IPAddress.TryParse(name, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = (resolve ?? Dns.GetHostAddresses)(name);
            }
            catch (SocketException e)
            {
                throw new BindRefusedException($"webhook.listen_address = \"{name}\" ({configPath}) does not resolve: {e.Message}");
            }
            if (addresses.Length == 0)
            {
                throw new BindRefusedException($"webhook.listen_address = \"{name}\" ({configPath}) resolves to no address");
            }
        }

        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0 && !options.AllowPublicBind)
        {
            var what = exposed[0] switch
            {
                var a when a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) => $"{a} means every network interface",
                var a when literal is null => $"it resolves to {string.Join(", ", exposed)}, which is not loopback",
                var a => $"{a} is not a loopback address",
            };
            throw new BindRefusedException(
                $"refusing to listen on webhook.listen_address = \"{name}\" ({configPath}): {what}. The webhook speaks plain HTTP " +
                "and would be reachable from the network. Keep \"127.0.0.1\" and put TLS in front of it (a reverse proxy such as " +
                "Caddy, or a tunnel such as Cloudflare Tunnel; see docs/whatsapp.md). Only if a firewall lets nothing but your TLS " +
                "terminator reach this address, set webhook.allow_public_bind = true.");
        }

        return addresses.Distinct().ToList();
    }

    /// <summary>Loopback, also in its IPv4-mapped IPv6 spelling (<c>::ffff:127.0.0.1</c>).</summary>
    internal static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}

/// <summary>The configured listen address is not one the webhook may bind.</summary>
public sealed class BindRefusedException(string message) : Exception(message);
