namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>Reads a request head (request line and headers, up to the blank line) within a byte limit.</summary>
internal static class RequestHead
{
    /// <summary>
    /// Reads into <paramref name="buffer"/> until the head is complete. Returns the head's length (through its blank
    /// line) and how many bytes were read in all: the rest is the start of a body or of a tunnelled TLS handshake,
    /// owed to the origin. A head length of 0 means the client closed before sending one.
    /// </summary>
    /// <exception cref="ProxyRefusal">400: the buffer filled before the head ended, or it ends lines with a bare LF.</exception>
    public static async Task<(int HeadLength, int Read)> ReadAsync(Stream client, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (true)
        {
            if (read == buffer.Length)
            {
                throw ProxyRefusal.BadRequest($"request head larger than {buffer.Length} bytes");
            }
            var n = await client.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return (0, read);
            }
            // Resume the search a few bytes back: the blank line may straddle two reads.
            var from = Math.Max(0, read - 3);
            read += n;
            var end = FindEnd(buffer.AsSpan(from, read - from));
            if (end >= 0)
            {
                return (from + end, read);
            }
        }
    }

    /// <summary>The request target on the first line of what arrived, for the log; a placeholder if there is none.</summary>
    public static (string Method, string Target) FirstLine(ReadOnlySpan<byte> received)
    {
        // A head cut short (timeout, too large) is passed as the whole zero-filled buffer: stop at the first NUL.
        var nul = received.IndexOf((byte)0);
        received = nul < 0 ? received : received[..nul];
        var eol = received.IndexOf((byte)'\n');
        var line = System.Text.Encoding.Latin1.GetString(eol < 0 ? received[..Math.Min(received.Length, 512)] : received[..eol]).TrimEnd('\r');
        var parts = line.Split(' ');
        return parts.Length >= 2 ? (ProxyResponse.Printable(parts[0], 20), ForLog(parts[1])) : ("-", "(no request line)");
    }

    /// <summary>A target fit for the log: no query string (API keys travel there), printable, capped.</summary>
    public static string ForLog(string target)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? ProxyResponse.Printable(target) : ProxyResponse.Printable(target[..query]) + "?…";
    }

    // The end of "\r\n\r\n" (the index after it). A bare "\n\n" also ends the head, so a client that ends lines
    // with LF alone gets its 400 now instead of after the header timeout.
    private static int FindEnd(ReadOnlySpan<byte> span)
    {
        for (var i = span.IndexOf((byte)'\n'); i >= 0 && i < span.Length - 1;)
        {
            if (span[i + 1] == '\n')
            {
                throw ProxyRefusal.BadRequest("request lines must end with CRLF");
            }
            if (span[i + 1] == '\r' && i + 2 < span.Length && span[i + 2] == '\n')
            {
                return i + 3;
            }
            var next = span[(i + 1)..].IndexOf((byte)'\n');
            i = next < 0 ? -1 : i + 1 + next;
        }
        return -1;
    }
}
