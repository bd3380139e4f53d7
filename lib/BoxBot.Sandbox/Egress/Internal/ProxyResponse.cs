using System.Text;

namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>The responses the proxy writes itself. Every one closes the connection: one request per connection.</summary>
internal static class ProxyResponse
{
    public static ReadOnlyMemory<byte> Established { get; } = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();

    /// <summary>
    /// A status line, a text/plain body of one line, and <c>Connection: close</c>. The reason is in the status line as
    /// well as the body: a CONNECT client (urllib, requests, pip) shows a script only the status line ("Tunnel connection
    /// failed: 403 Forbidden: 127.0.0.1 is not a public address"), never the body, and the script's author needs the why.
    /// </summary>
    public static byte[] Refusal(int status, string reason)
    {
        var body = Encoding.UTF8.GetBytes(reason + "\n");
        var head = $"HTTP/1.1 {StatusLine(status, reason)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }

    /// <summary>"403 Forbidden: why (boxbot egress proxy)", printable ASCII only, so no reason can add a header line.</summary>
    public static string StatusLine(int status, string reason) =>
        $"{status} {ReasonPhrase(status)}: {Printable(reason, 160)} (boxbot egress proxy)";

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };

    /// <summary>
    /// Client-chosen text made safe to echo and log: printable ASCII only (no line breaks to forge log lines or
    /// headers with), at most <paramref name="max"/> characters.
    /// </summary>
    public static string Printable(string text, int max = 200)
    {
        var builder = new StringBuilder(Math.Min(text.Length, max) + 1);
        foreach (var c in text)
        {
            if (builder.Length == max)
            {
                return builder.Append('…').ToString();
            }
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return builder.ToString();
    }
}
