using System.Buffers;
using System.Text;
using System.Text.Json;

namespace BoxBot.Mesh.Credentials;

/// <summary>
/// A Device Connect portal's <c>*.creds.json</c>: <c>{"device_id", "auth_type":"jwt", "tenant", "nats":{"urls", "jwt",
/// "nkey_seed", "tls":{…}}}</c>. The portal writes no <c>tls</c> block; <c>devctl</c> adds <c>ca_file</c>; boxbot's
/// <c>mesh device add</c> writes both <c>ca_file</c> (which the reference edge runtime reads) and <c>ca_pem</c>.
/// </summary>
/// <param name="DeviceId">The device these credentials are for.</param>
/// <param name="Tenant">The tenant (<c>default</c> when the file has none).</param>
/// <param name="Urls">The broker's addresses.</param>
/// <param name="Jwt">The user's JWT.</param>
/// <param name="Seed">The user's NKey seed.</param>
/// <param name="CaPem">The CA that signs the broker's certificate (PEM), from <c>ca_pem</c> or the file <c>ca_file</c> names.</param>
/// <param name="CertPem">A client certificate (PEM), for brokers that ask for one.</param>
/// <param name="KeyPem">The client certificate's private key (PEM).</param>
public sealed record PortalCredentials(string DeviceId, string Tenant, IReadOnlyList<Uri> Urls, string Jwt, string Seed,
    string? CaPem = null, string? CertPem = null, string? KeyPem = null)
{
    /// <summary>
    /// Reads <paramref name="json"/>; <paramref name="source"/> names it in errors, and relative <c>*_file</c> paths are
    /// taken from <paramref name="baseDirectory"/>.
    /// </summary>
    /// <exception cref="FormatException">Not such a file, or a member is missing or of the wrong kind (named in the message).</exception>
    public static PortalCredentials Parse(string json, string source, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{source}: expected a JSON object");
            }
            var deviceId = Text(root, "device_id", source, required: true)!;
            var tenant = Text(root, "tenant", source, required: false) ?? "default";
            if (Text(root, "auth_type", source, required: false) is { } auth && auth != "jwt")
            {
                throw new FormatException($"{source}: auth_type is '{auth}'; only 'jwt' credentials are supported");
            }
            if (!root.TryGetProperty("nats", out var nats) || nats.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{source}: no \"nats\" object (the broker's urls, jwt and nkey_seed)");
            }
            var urls = new List<Uri>();
            if (nats.TryGetProperty("urls", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String || !Uri.TryCreate(item.GetString(), UriKind.Absolute, out var url))
                    {
                        throw new FormatException($"{source}: nats.urls holds {item.GetRawText()}, not an absolute URL");
                    }
                    urls.Add(url);
                }
            }
            var jwt = Text(nats, "jwt", source, required: true, prefix: "nats.")!;
            var seed = Text(nats, "nkey_seed", source, required: true, prefix: "nats.")!;
            string? ca = null, cert = null, key = null;
            if (nats.TryGetProperty("tls", out var tls) && tls.ValueKind == JsonValueKind.Object)
            {
                ca = Pem(tls, "ca", source, baseDirectory);
                cert = Pem(tls, "cert", source, baseDirectory);
                key = Pem(tls, "key", source, baseDirectory);
                if ((cert is null) != (key is null))
                {
                    throw new FormatException($"{source}: nats.tls has a client {(cert is null ? "key" : "certificate")} without its {(cert is null ? "certificate" : "key")}");
                }
            }
            try
            {
                var claims = NatsJwt.Read(jwt);
                if (claims.Type is not ("user" or ""))
                {
                    throw new FormatException($"{source}: nats.jwt is an {claims.Type} JWT, not a user's");
                }
            }
            catch (FormatException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
            {
                throw new FormatException($"{source}: nats.jwt: {e.Message}", e);
            }
            return new PortalCredentials(deviceId, tenant, urls, jwt, seed, ca, cert, key);
        }
    }

    /// <summary>The file's text, indented as the portal writes it; <c>ca_file</c> names where the CA's PEM was written beside it.</summary>
    public string ToJson(string? caFile)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 2 }))
        {
            w.WriteStartObject();
            w.WriteString("device_id", DeviceId);
            w.WriteString("auth_type", "jwt");
            w.WriteString("tenant", Tenant);
            w.WriteStartObject("nats");
            w.WriteStartArray("urls");
            foreach (var url in Urls)
            {
                w.WriteStringValue(url.OriginalString);
            }
            w.WriteEndArray();
            w.WriteString("jwt", Jwt);
            w.WriteString("nkey_seed", Seed);
            if (CaPem is not null || CertPem is not null)
            {
                w.WriteStartObject("tls");
                if (caFile is not null)
                {
                    w.WriteString("ca_file", caFile);
                }
                if (CaPem is not null)
                {
                    w.WriteString("ca_pem", CaPem);
                }
                if (CertPem is not null)
                {
                    w.WriteString("cert_pem", CertPem);
                    w.WriteString("key_pem", KeyPem);
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    // Never print the seed or the key: records print every member otherwise.
    public override string ToString() => $"PortalCredentials {{ DeviceId = {DeviceId}, Tenant = {Tenant}, Urls = {string.Join(", ", Urls)} }}";

    private static string? Text(JsonElement obj, string name, string source, bool required, string prefix = "")
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new FormatException($"{source}: {prefix}{name} is missing") : null;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            throw new FormatException($"{source}: {prefix}{name} must be a non-empty string, not {value.GetRawText()}");
        }
        return text;
    }

    private static string? Pem(JsonElement tls, string what, string source, string baseDirectory)
    {
        if (Text(tls, what + "_pem", source, required: false, prefix: "nats.tls.") is { } pem)
        {
            return pem;
        }
        if (Text(tls, what + "_file", source, required: false, prefix: "nats.tls.") is not { } file)
        {
            return null;
        }
        var path = Path.GetFullPath(file, baseDirectory);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{source}: nats.tls.{what}_file {path}: {e.Message}", e);
        }
    }
}
