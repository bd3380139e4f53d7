using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using BoxBot.Mesh.Wire;
using NATS.NKeys;

namespace BoxBot.Mesh.Credentials;

/// <summary>
/// Mints the JWTs of NATS's decentralized authentication (nats-io/jwt version 2, as nats-server 2.9 accepts them): the
/// operator's (self-signed), an account's (signed by the operator) and a user's (signed by its account). No .NET JWT
/// package is served here, and the format is small: a fixed header, the claims as JSON written in the field order the Go
/// library writes, an Ed25519 signature over <c>header.payload</c>, all base64url without padding.
/// </summary>
public static class NatsJwt
{
    // {"typ":"JWT","alg":"ed25519-nkey"}: the only header version 2 writes.
    private static readonly string Header = Base64Url.EncodeToString("{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}"u8);

    /// <summary>The operator's JWT: it names the system account, which the broker needs for its own events.</summary>
    public static string Operator(KeyPair operatorKey, string name, string systemAccount, DateTimeOffset issuedAt)
    {
        ArgumentNullException.ThrowIfNull(operatorKey);
        return Encode(operatorKey, operatorKey.GetPublicKey(), name, issuedAt, null, w =>
        {
            w.WriteString("system_account", systemAccount);
            w.WriteString("type", "operator");
        });
    }

    /// <summary>
    /// An account's JWT. Its limits are written as unlimited (-1): nats-server reads a missing limit as 0, which would
    /// admit no connection. <paramref name="revocations"/> maps a user's public key to the time (Unix seconds) from which
    /// its JWTs are refused: any JWT of that key issued at or before it.
    /// </summary>
    public static string Account(KeyPair operatorKey, string accountPublicKey, string name,
        IReadOnlyDictionary<string, long> revocations, DateTimeOffset issuedAt)
    {
        ArgumentNullException.ThrowIfNull(operatorKey);
        ArgumentNullException.ThrowIfNull(revocations);
        return Encode(operatorKey, accountPublicKey, name, issuedAt, null, w =>
        {
            w.WriteStartObject("limits");
            w.WriteNumber("subs", -1);
            w.WriteNumber("data", -1);
            w.WriteNumber("payload", -1);
            w.WriteNumber("imports", -1);
            w.WriteNumber("exports", -1);
            w.WriteBoolean("wildcards", true);
            w.WriteNumber("conn", -1);
            w.WriteNumber("leaf", -1);
            w.WriteEndObject();
            if (revocations.Count > 0)
            {
                w.WriteStartObject("revocations");
                foreach (var (key, at) in revocations.OrderBy(r => r.Key, StringComparer.Ordinal))
                {
                    w.WriteNumber(key, at);
                }
                w.WriteEndObject();
            }
            // Every user JWT minted here states its own permissions, so the account's defaults never apply.
            w.WriteStartObject("default_permissions");
            w.WriteStartObject("pub");
            w.WriteEndObject();
            w.WriteStartObject("sub");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("type", "account");
        });
    }

    /// <summary>A user's JWT, signed by its account's key, granting exactly <paramref name="permissions"/>.</summary>
    public static string User(KeyPair accountKey, string userPublicKey, string name, UserPermissions permissions,
        DateTimeOffset issuedAt, DateTimeOffset? expires = null)
    {
        ArgumentNullException.ThrowIfNull(accountKey);
        ArgumentNullException.ThrowIfNull(permissions);
        return Encode(accountKey, userPublicKey, name, issuedAt, expires, w =>
        {
            // With the response permission set, an empty publish list already means "replies only" to the broker.
            WriteAllow(w, "pub", permissions.Publish, denyAllWhenEmpty: !permissions.Respond);
            WriteAllow(w, "sub", permissions.Subscribe, denyAllWhenEmpty: true);
            if (permissions.Respond)
            {
                w.WriteStartObject("resp");
                w.WriteNumber("max", 1);
                w.WriteNumber("ttl", (long)UserPermissions.ResponseWindow.TotalNanoseconds); // a Go time.Duration
                w.WriteEndObject();
            }
            // Unlimited, as for the account: a missing limit would be 0 subscriptions and empty messages only.
            w.WriteNumber("subs", -1);
            w.WriteNumber("data", -1);
            w.WriteNumber("payload", -1);
            w.WriteString("type", "user");
        });
    }

    /// <summary>The claims of <paramref name="jwt"/>, read without checking its signature (see <see cref="Verify"/>).</summary>
    /// <exception cref="FormatException">Not a NATS JWT.</exception>
    public static JwtClaims Read(string jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        var parts = jwt.Trim().Split('.');
        if (parts.Length != 3)
        {
            throw new FormatException("not a JWT: a JWT has three parts separated by dots");
        }
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            long? Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
            var type = root.TryGetProperty("nats", out var nats) && nats.ValueKind == JsonValueKind.Object
                && nats.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return new JwtClaims(
                Text("sub") ?? throw new FormatException("the JWT has no subject (sub)"),
                Text("iss") ?? throw new FormatException("the JWT has no issuer (iss)"),
                Text("name") ?? "",
                type ?? "",
                DateTimeOffset.FromUnixTimeSeconds(Number("iat") ?? 0),
                Number("exp") is { } exp and > 0 ? DateTimeOffset.FromUnixTimeSeconds(exp) : null);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            throw new FormatException($"not a NATS JWT: {e.Message}", e);
        }
    }

    /// <summary>True when <paramref name="jwt"/> carries a valid signature of <paramref name="issuerPublicKey"/>.</summary>
    public static bool Verify(string jwt, string issuerPublicKey)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        var dot = jwt.LastIndexOf('.');
        if (dot < 0)
        {
            return false;
        }
        try
        {
            using var issuer = KeyPair.FromPublicKey(issuerPublicKey);
            return issuer.Verify(Encoding.ASCII.GetBytes(jwt[..dot]), Base64Url.DecodeFromChars(jwt.AsSpan(dot + 1)));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NKeysException)
        {
            return false;
        }
    }

    private static string Encode(KeyPair issuer, string subject, string name, DateTimeOffset issuedAt, DateTimeOffset? expires,
        Action<Utf8JsonWriter> writeNats)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentNullException.ThrowIfNull(name);
        var iss = issuer.GetPublicKey();
        var iat = issuedAt.ToUnixTimeSeconds();
        var exp = expires?.ToUnixTimeSeconds() ?? 0;
        // jti: base32 of SHA-512/256 of the standard claims written without it, as nats-io/jwt does. The broker does
        // not check it; tools that compare JWTs by it do.
        var jti = Jti(WireJson.Object(w => WriteStandardClaims(w, exp, null, iat, iss, name, subject)));
        var payload = WireJson.Object(w =>
        {
            WriteStandardClaims(w, exp, jti, iat, iss, name, subject);
            w.WriteStartObject("nats");
            writeNats(w);
            w.WriteNumber("version", 2);
            w.WriteEndObject();
        });
        var signed = Encoding.ASCII.GetBytes(Header + "." + Base64Url.EncodeToString(payload));
        var signature = new byte[64];
        issuer.Sign(signed, signature);
        return Encoding.ASCII.GetString(signed) + "." + Base64Url.EncodeToString(signature);
    }

    internal static string Jti(ReadOnlySpan<byte> standardClaims)
    {
        var hash = Sha512_256.Hash(standardClaims);
        Span<char> chars = stackalloc char[Base32.GetEncodedLength(hash)];
        return new string(chars[..Base32.ToBase32(hash, chars)]);
    }

    // The Go library's field order: aud, exp, jti, iat, iss, name, nbf, sub (each left out when empty).
    private static void WriteStandardClaims(Utf8JsonWriter w, long exp, string? jti, long iat, string iss, string name, string sub)
    {
        if (exp != 0)
        {
            w.WriteNumber("exp", exp);
        }
        if (jti is not null)
        {
            w.WriteString("jti", jti);
        }
        w.WriteNumber("iat", iat);
        w.WriteString("iss", iss);
        if (name.Length > 0)
        {
            w.WriteString("name", name);
        }
        w.WriteString("sub", sub);
    }

    private static void WriteAllow(Utf8JsonWriter w, string name, IReadOnlyList<string> allow, bool denyAllWhenEmpty)
    {
        w.WriteStartObject(name);
        if (allow.Count == 0 && denyAllWhenEmpty)
        {
            // An empty allow list means "no restriction" to the broker: deny everything instead.
            w.WriteStartArray("deny");
            w.WriteStringValue(">");
            w.WriteEndArray();
        }
        else if (allow.Count > 0)
        {
            w.WriteStartArray("allow");
            foreach (var subject in allow)
            {
                w.WriteStringValue(subject);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}

/// <summary>What a JWT says about itself.</summary>
/// <param name="Subject">The public key it is about (a user's <c>U…</c>, an account's <c>A…</c>).</param>
/// <param name="Issuer">The public key that signed it.</param>
/// <param name="Name">Its name (for a user boxbot minted: the device id or admin name).</param>
/// <param name="Type"><c>operator</c>, <c>account</c> or <c>user</c>.</param>
public sealed record JwtClaims(string Subject, string Issuer, string Name, string Type, DateTimeOffset IssuedAt, DateTimeOffset? Expires);
