using BoxBot.Mesh.Broker;
using BoxBot.Mesh.Credentials;
using NATS.NKeys;

namespace BoxBot.Mesh.Tests;

/// <summary>The JWTs boxbot mints, against ones nsc minted; the .creds and portal *.creds.json files, against the reference's.</summary>
public sealed class CredentialFilesTests
{
    private static string Sample(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Samples", "reference", name);

    // JWTs minted by nsc (nats-io/jwt, Go): the id of each is SHA-512/256 of its standard claims.
    private static readonly string[] NscJwts =
    [
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiIyUkc0WjJKVzYzSUtBS1czSFg0SkpMQVhRN1ZSM0NKVlRQU1FHUVRCU0ZFQjVKTkNISUpRIiwiaWF0IjoxNjE2MTg2MjAxLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJqcy10ZXN0Iiwic3ViIjoiT0Q0TTZJQUFLUVNNNERRU0xXWklWQkFDWVRZUzJTNlhRUzdVNjdYWFlYSjQ0SUxORTM1WVBHSksiLCJuYXRzIjp7InR5cGUiOiJvcGVyYXRvciIsInZlcnNpb24iOjJ9fQ.VkjSK2BlMmtYfVJSkC9aZEFvjg4BXzbd0oXkQa3Rlkhh8EuSRU7-Tp1zUm1SveBb6dZXsE51vhIQFQY66fO0Bw",
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJHRUNQVEpISE1TM01DTUtMVFBHWUdBTzQ1R1E2TjZRUFlXUTRHUExBRUIzM1ZDUkpOUlZRIiwiaWF0IjoxNjE2MjQ3MjMyLCJpc3MiOiJBQlZSWktKNlo3TklNUElZSlJDSEVZRlJVTzdFTk42TldPS1FERkxGREZWUFNNMzZVUFgyVUNQUCIsIm5hbWUiOiJvbmUiLCJzdWIiOiJVRENJQkdHR0hDSkJRUE9PNFNDSkpCSFpEUjM3TlFHR0NJV01ORzJEREFLSjZXTUtCTUFLWElNTyIsIm5hdHMiOnsicHViIjp7fSwic3ViIjp7fSwic3VicyI6LTEsImRhdGEiOi0xLCJwYXlsb2FkIjotMSwidHlwZSI6InVzZXIiLCJ2ZXJzaW9uIjoyfX0.VLhSDtGZEF_jdvgmhgkdISXAt5wFMMZxxwm5w8UrsnlM1hkUvtxBlTe4IP0xJIf4xf8JOR2Bmf73xUGJKUZECQ",
    ];

    [Test]
    public void The_JWT_id_is_computed_as_nats_io_jwt_computes_it()
    {
        foreach (var jwt in NscJwts)
        {
            var payload = System.Text.Json.JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[1])).RootElement;
            using var standard = new MemoryStream();
            using (var w = new System.Text.Json.Utf8JsonWriter(standard))
            {
                w.WriteStartObject();
                foreach (var p in payload.EnumerateObject().Where(p => p.Name is "exp" or "iat" or "iss" or "name" or "nbf" or "sub"))
                {
                    p.WriteTo(w);
                }
                w.WriteEndObject();
            }
            Assert.That(NatsJwt.Jti(standard.ToArray()), Is.EqualTo(payload.GetProperty("jti").GetString()));
            Assert.That(NatsJwt.Verify(jwt, payload.GetProperty("iss").GetString()!), Is.True, "nsc's signature verifies");
        }
    }

    [Test]
    public void A_minted_user_JWT_reads_back_and_verifies_only_with_its_issuer()
    {
        using var account = KeyPair.CreatePair(PrefixByte.Account);
        using var other = KeyPair.CreatePair(PrefixByte.Account);
        using var user = KeyPair.CreatePair(PrefixByte.User);
        var at = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var jwt = NatsJwt.User(account, user.GetPublicKey(), "lamp", new UserPermissions(["a"], ["b"], true), at, at.AddDays(1));

        var claims = NatsJwt.Read(jwt);

        Assert.That(claims, Is.EqualTo(new JwtClaims(user.GetPublicKey(), account.GetPublicKey(), "lamp", "user", at, at.AddDays(1))));
        Assert.That(NatsJwt.Verify(jwt, account.GetPublicKey()), Is.True);
        Assert.That(NatsJwt.Verify(jwt, other.GetPublicKey()), Is.False);
        Assert.That(NatsJwt.Verify(jwt[..^4] + "AAAA", account.GetPublicKey()), Is.False, "a changed signature");
    }

    [Test]
    public void A_creds_file_round_trips_and_a_broken_one_says_what_is_wrong()
    {
        using var account = KeyPair.CreatePair(PrefixByte.Account);
        using var user = KeyPair.CreatePair(PrefixByte.User);
        var jwt = NatsJwt.User(account, user.GetPublicKey(), "lamp", new UserPermissions([], [], true), DateTimeOffset.UtcNow);
        var text = CredsFile.Format(jwt, user.GetSeed());

        Assert.That(text, Does.StartWith("-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n"));
        Assert.That(CredsFile.Parse(text, "lamp.creds"), Is.EqualTo((jwt, user.GetSeed())));
        Assert.That(() => CredsFile.Parse("nothing here", "x.creds"), Throws.InstanceOf<FormatException>().With.Message.Contains("x.creds: no NATS USER JWT block"));
        Assert.That(() => CredsFile.Parse(CredsFile.Format(jwt, account.GetSeed()), "y.creds"),
            Throws.InstanceOf<FormatException>().With.Message.Contains("not of a user"));
    }

    [Test]
    public void The_portals_creds_json_is_read_and_boxbots_own_is_read_back()
    {
        // The sample's JWT and seed are placeholders; the shape is the portal's. Put real ones in their places.
        using var account = KeyPair.CreatePair(PrefixByte.Account);
        using var user = KeyPair.CreatePair(PrefixByte.User);
        var jwt = NatsJwt.User(account, user.GetPublicKey(), "default-device-001", new UserPermissions([], [], true), DateTimeOffset.UtcNow);
        var sample = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Sample("creds.portal.json")))!;
        sample["nats"]!["jwt"] = jwt;
        sample["nats"]!["nkey_seed"] = user.GetSeed();
        var portal = PortalCredentials.Parse(sample.ToJsonString(), "creds.portal.json", "/");
        Assert.That(portal.DeviceId, Is.EqualTo("default-device-001"));
        Assert.That(portal.Tenant, Is.EqualTo("default"));
        Assert.That(portal.Urls, Is.EqualTo(new[] { new Uri("nats://portal.example.com:4222") }));
        Assert.That(portal.CaPem, Is.Null);
        Assert.That((portal.Jwt, portal.Seed), Is.EqualTo((jwt, user.GetSeed())));
        Assert.That(portal.ToString(), Does.Not.Contain(portal.Seed));

        using var ca = MeshCertificates.CreateAuthority("test", DateTimeOffset.UtcNow);
        var ours = portal with { Tenant = "home", Urls = [new Uri("tls://kitchen.local:4222")], CaPem = MeshCertificates.ToPem(ca).Certificate };
        Assert.That(PortalCredentials.Parse(ours.ToJson("/nowhere/ca.crt"), "ours", "/"), Is.EqualTo(ours).Using<PortalCredentials>((a, b) =>
            a.DeviceId == b.DeviceId && a.Tenant == b.Tenant && a.Urls.SequenceEqual(b.Urls) && a.Jwt == b.Jwt && a.Seed == b.Seed && a.CaPem == b.CaPem));
    }

    [Test]
    public void A_creds_json_with_a_missing_or_wrong_member_names_it()
    {
        Assert.That(() => PortalCredentials.Parse("[1]", "a.json", "/"), Throws.InstanceOf<FormatException>().With.Message.Contains("a.json: expected a JSON object"));
        Assert.That(() => PortalCredentials.Parse("{\"device_id\":\"x\"}", "b.json", "/"), Throws.InstanceOf<FormatException>().With.Message.Contains("no \"nats\" object"));
        Assert.That(() => PortalCredentials.Parse("{\"device_id\":\"x\",\"nats\":{\"jwt\":\"a.b.c\"}}", "c.json", "/"),
            Throws.InstanceOf<FormatException>().With.Message.Contains("nats.nkey_seed is missing"));
        Assert.That(() => PortalCredentials.Parse("{\"device_id\":\"x\",\"auth_type\":\"password\",\"nats\":{}}", "d.json", "/"),
            Throws.InstanceOf<FormatException>().With.Message.Contains("only 'jwt'"));
        Assert.That(() => PortalCredentials.Parse("{\"device_id\":\"x\",\"nats\":{\"urls\":[\"::\"],\"jwt\":\"a\",\"nkey_seed\":\"b\"}}", "e.json", "/"),
            Throws.InstanceOf<FormatException>().With.Message.Contains("nats.urls"));
    }
}
