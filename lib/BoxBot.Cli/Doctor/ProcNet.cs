using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace BoxBot.Cli.Doctor;

/// <summary>Pure parsers of <c>/proc/net/route</c>, <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>.</summary>
internal static class ProcNet
{
    private const int RtfUp = 0x1;
    private const int RtfGateway = 0x2;
    private const string TcpListen = "0A";

    /// <summary>
    /// The IPv4 default gateway: the first up route to 0.0.0.0/0 through a gateway. Addresses are hex in the kernel's
    /// byte order, which is little-endian on every machine boxbot runs on (arm64, x86_64).
    /// </summary>
    public static IPAddress? DefaultGateway(string routeText)
    {
        foreach (var line in routeText.Split('\n').Skip(1))
        {
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8
                || !uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var destination)
                || !uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var gateway)
                || !int.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                continue;
            }
            if (destination == 0 && mask == 0 && gateway != 0 && (flags & (RtfUp | RtfGateway)) == (RtfUp | RtfGateway))
            {
                var bytes = new byte[4];
                PutWord(bytes, 0, gateway);
                return new IPAddress(bytes);
            }
        }
        return null;
    }

    /// <summary>The local addresses in state LISTEN in a <c>/proc/net/tcp</c> or <c>/proc/net/tcp6</c> text.</summary>
    public static IReadOnlyList<IPEndPoint> Listeners(string tcpText)
    {
        var listeners = new List<IPEndPoint>();
        foreach (var line in tcpText.Split('\n').Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || f[3] != TcpListen || ParseEndpoint(f[1]) is not { } endpoint)
            {
                continue;
            }
            listeners.Add(endpoint);
        }
        return listeners;
    }

    /// <summary>"0100007F:20FB" (IPv4) or 32 hex digits ":PORT" (IPv6): each 32-bit word in host (little-endian) order, the port big-endian.</summary>
    internal static IPEndPoint? ParseEndpoint(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port))
        {
            return null;
        }
        var hex = text[..colon];
        if (hex.Length is not (8 or 32))
        {
            return null;
        }
        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            if (!uint.TryParse(hex.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }
            PutWord(bytes, word * 4, value);
        }
        return new IPEndPoint(new IPAddress(bytes), port);
    }

    /// <summary>The kernel prints each 32-bit word of an address as a number in host order: little-endian, so its first byte is the low one.</summary>
    private static void PutWord(byte[] bytes, int offset, uint value)
    {
        bytes[offset] = (byte)value;
        bytes[offset + 1] = (byte)(value >> 8);
        bytes[offset + 2] = (byte)(value >> 16);
        bytes[offset + 3] = (byte)(value >> 24);
    }

    /// <summary>True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.</summary>
    public static bool IsLoopback(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    public static string Format(IPEndPoint endpoint) =>
        endpoint.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";
}
