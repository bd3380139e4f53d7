using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>
/// A parsed proxy request: <c>CONNECT host:port</c>, or a plain-HTTP request in absolute form
/// (<c>GET http://host[:port]/path</c>). Anything else is refused with a 400 that says what was wrong.
/// </summary>
/// <param name="Host">The host as the client wrote it, without brackets.</param>
/// <param name="Literal">The address when the host is an IP literal: such a host is never passed to the resolver.</param>
/// <param name="Authority">host[:port] as in the URI, for the forwarded <c>Host</c> header.</param>
/// <param name="OriginForm">The path and query to send the origin; null for CONNECT.</param>
internal sealed record ProxyRequest(
    string Method, string Target, string Version, string Host, IPAddress? Literal, int Port, string Authority, string? OriginForm,
    IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public bool IsConnect => OriginForm is null;

    // Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's business, not the origin's. Transfer-Encoding is
    // hop-by-hop too but stays: the body is relayed as it arrives, so its framing must reach the origin unchanged.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade", "Host",
    };

    /// <exception cref="ProxyRefusal">400, saying what is wrong with the request.</exception>
    public static ProxyRequest Parse(ReadOnlySpan<byte> head)
    {
        var lines = Encoding.Latin1.GetString(head).Split("\r\n");
        // The head ends with an empty line, so the split ends with two empty strings.
        if (lines.Length < 3 || lines[^1].Length != 0 || lines[^2].Length != 0)
        {
            throw ProxyRefusal.BadRequest("request head does not end with an empty line");
        }
        var parts = lines[0].Split(' ');
        if (parts.Length != 3)
        {
            throw ProxyRefusal.BadRequest("request line is not METHOD TARGET HTTP/1.1");
        }
        var (method, target, version) = (parts[0], parts[1], parts[2]);
        if (!IsToken(method))
        {
            throw ProxyRefusal.BadRequest("request method is not a token");
        }
        if (version is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            throw ProxyRefusal.BadRequest($"HTTP version '{ProxyResponse.Printable(version, 20)}' is not HTTP/1.1 or HTTP/1.0");
        }
        if (target.Length == 0 || target.Any(c => c is <= ' ' or > '~'))
        {
            throw ProxyRefusal.BadRequest("request target is empty or has characters a URI may not have");
        }
        var headers = ParseHeaders(lines.AsSpan(1, lines.Length - 3));

        if (method == "CONNECT")
        {
            var (host, literal, port) = ParseAuthority(target, defaultPort: null);
            return new ProxyRequest(method, target, version, host, literal, port, target, null, headers);
        }
        if (target.StartsWith('/') || target == "*")
        {
            throw ProxyRefusal.BadRequest("origin-form request: this is a proxy; send the absolute URI (GET http://host/path) or CONNECT host:port");
        }
        if (target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw ProxyRefusal.BadRequest("https:// in absolute form: use CONNECT host:443 and TLS through the tunnel");
        }
        if (!target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            throw ProxyRefusal.BadRequest("request target is neither http://host/path nor CONNECT host:port");
        }
        if (target.Contains('#', StringComparison.Ordinal))
        {
            throw ProxyRefusal.BadRequest("request target has a fragment (#)");
        }
        var rest = target["http://".Length..];
        var end = rest.IndexOfAny(['/', '?']);
        var authority = end < 0 ? rest : rest[..end];
        var path = end < 0 ? "/" : rest[end] == '?' ? "/" + rest[end..] : rest[end..];
        var (h, l, p) = ParseAuthority(authority, defaultPort: 80);
        return new ProxyRequest(method, target, version, h, l, p, authority, path, headers);
    }

    /// <summary>
    /// The head sent to the origin: origin-form target, <c>Host</c> from the URI, the client's headers minus the
    /// hop-by-hop ones, <c>Proxy-*</c> (credentials meant for a proxy go no further) and any the client's
    /// <c>Connection</c> header names; then <c>Connection: close</c>, as one request is all a connection carries.
    /// </summary>
    public byte[] ForwardedHead()
    {
        var named = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in Headers)
        {
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    named.Add(token);
                }
            }
        }
        var head = new StringBuilder(256);
        head.Append(Method).Append(' ').Append(OriginForm).Append(' ').Append(Version).Append("\r\n");
        head.Append("Host: ").Append(Authority).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            if (!HopByHop.Contains(name) && !named.Contains(name) && !name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        head.Append("Connection: close\r\n\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    private static List<KeyValuePair<string, string>> ParseHeaders(ReadOnlySpan<string> lines)
    {
        var headers = new List<KeyValuePair<string, string>>(lines.Length);
        foreach (var line in lines)
        {
            if (line.Contains('\n', StringComparison.Ordinal) || line.Contains('\r', StringComparison.Ordinal))
            {
                throw ProxyRefusal.BadRequest("request lines must end with CRLF");
            }
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                throw ProxyRefusal.BadRequest("folded header line (obsolete line folding is not accepted)");
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                throw ProxyRefusal.BadRequest($"header line '{ProxyResponse.Printable(line, 40)}' is not NAME: VALUE");
            }
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => c is < ' ' and not '\t' or '\x7f'))
            {
                throw ProxyRefusal.BadRequest($"header {ProxyResponse.Printable(line[..colon], 40)} has control characters");
            }
            headers.Add(new(line[..colon], value));
        }
        return headers;
    }

    // host:port, [v6]:port, or (absolute form only) either without the port.
    private static (string Host, IPAddress? Literal, int Port) ParseAuthority(string authority, int? defaultPort)
    {
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            throw ProxyRefusal.BadRequest("userinfo (user@) in the URI is not accepted");
        }
        string host;
        string? portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw ProxyRefusal.BadRequest("'[' without ']' in the host");
            }
            host = authority[1..close];
            var after = authority[(close + 1)..];
            portText = after.Length == 0 ? null : after[0] == ':' ? after[1..] : throw ProxyRefusal.BadRequest("text after ']' that is not :port");
            if (host.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                throw ProxyRefusal.BadRequest($"'[{ProxyResponse.Printable(host, 60)}]' is not an IPv6 address without a zone");
            }
            return (host, v6, ParsePort(portText, defaultPort));
        }
        var colon = authority.LastIndexOf(':');
        host = colon < 0 ? authority : authority[..colon];
        portText = colon < 0 ? null : authority[(colon + 1)..];
        if (host.Contains(':', StringComparison.Ordinal))
        {
            throw ProxyRefusal.BadRequest("an IPv6 host must be in brackets: [2001:db8::1]:443");
        }
        var port = ParsePort(portText, defaultPort);
        if (IsDottedDecimal(host) && IPAddress.TryParse(host, out var v4))
        {
            return (host, v4, port);
        }
        if (!IsHostName(host))
        {
            throw ProxyRefusal.BadRequest($"'{ProxyResponse.Printable(host, 60)}' is not a host name or an IP address");
        }
        return (host, null, port);
    }

    private static int ParsePort(string? text, int? defaultPort)
    {
        if (text is null)
        {
            return defaultPort ?? throw ProxyRefusal.BadRequest("CONNECT needs host:port");
        }
        if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit))
        {
            throw ProxyRefusal.BadRequest($"port '{ProxyResponse.Printable(text, 20)}' is not a number");
        }
        var port = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return port is >= 1 and <= 65535 ? port : throw ProxyRefusal.BadRequest($"port {port} is outside 1-65535");
    }

    // Only a.b.c.d counts as an IPv4 literal. The resolver's other numeric spellings (127.1, 0x7f.1, 2130706433)
    // would be checked just the same once resolved, but a plain name-or-literal rule is easier to reason about.
    private static bool IsDottedDecimal(string host) =>
        host.Length is >= 7 and <= 15 && host.All(c => char.IsAsciiDigit(c) || c == '.') && host.Count(c => c == '.') == 3;

    // Letters, digits, '-', '_' in dot-separated labels of 1-63; a trailing dot (fully qualified) is allowed.
    private static bool IsHostName(string host)
    {
        var name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));
}
