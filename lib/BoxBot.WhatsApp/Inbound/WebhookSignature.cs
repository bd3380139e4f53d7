using System.Buffers;
using System.Security.Cryptography;

namespace BoxBot.WhatsApp.Inbound;

/// <summary>
/// The <c>X-Hub-Signature-256</c> header Meta puts on every webhook delivery: <c>sha256=</c> and the lowercase hex
/// HMAC-SHA256 of the raw body bytes (exactly as received, before any parsing), keyed with the app secret.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-Hub-Signature-256";

    private const string Prefix = "sha256=";
    private const int MacBytes = 32;

    /// <summary>The header value for <paramref name="body"/>: <c>"sha256=" + lowercase hex of HMAC-SHA256(appSecret, body)</c>.</summary>
    /// <exception cref="ArgumentException">The secret is empty (<see cref="Verify"/> never accepts an empty secret).</exception>
    public static string Sign(ReadOnlySpan<byte> body, ReadOnlySpan<byte> appSecret)
    {
        if (appSecret.IsEmpty)
        {
            throw new ArgumentException("the app secret is empty", nameof(appSecret));
        }

        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(appSecret, body, mac);
        return Prefix + Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// True only for exactly <c>"sha256="</c> + 64 hex digits (either case) equal to the HMAC of <paramref name="body"/>,
    /// compared in constant time on the decoded bytes. Null, empty, no prefix (or <c>SHA256=</c>), wrong length,
    /// whitespace anywhere, non-hex, or an empty <paramref name="appSecret"/> (a misconfigured box must not accept
    /// deliveries signed with the empty key) → false.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> body, string? header, ReadOnlySpan<byte> appSecret)
    {
        if (appSecret.IsEmpty || header is null || header.Length != Prefix.Length + 2 * MacBytes
            || !header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        Span<byte> claimed = stackalloc byte[MacBytes];
        if (Convert.FromHexString(header.AsSpan(Prefix.Length), claimed, out _, out var written) != OperationStatus.Done
            || written != MacBytes)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[MacBytes];
        HMACSHA256.HashData(appSecret, body, actual);
        return CryptographicOperations.FixedTimeEquals(actual, claimed);
    }
}
