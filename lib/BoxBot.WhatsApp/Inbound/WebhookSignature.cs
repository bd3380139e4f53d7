using System.Security.Cryptography;

namespace BoxBot.WhatsApp.Inbound;

// TEMPORARY stand-in until the inbound branch lands (same API).
public static class WebhookSignature
{
    public const string HeaderName = "X-Hub-Signature-256";

    public static string Sign(ReadOnlySpan<byte> body, ReadOnlySpan<byte> appSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(appSecret, body));

    public static bool Verify(ReadOnlySpan<byte> body, string? header, ReadOnlySpan<byte> appSecret)
    {
        if (header is null || header.Length != 71 || !header.StartsWith("sha256=", StringComparison.Ordinal))
        {
            return false;
        }
        Span<byte> given = stackalloc byte[32];
        try
        {
            Convert.FromHexString(header.AsSpan(7), given, out _, out _);
        }
        catch (FormatException)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(appSecret, body, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
