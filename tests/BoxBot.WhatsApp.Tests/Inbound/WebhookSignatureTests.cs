using System.Security.Cryptography;
using System.Text;
using BoxBot.WhatsApp.Inbound;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>The X-Hub-Signature-256 check: only the exact HMAC of the exact bytes under the box's app secret gets through.</summary>
public class WebhookSignatureTests
{
    private static readonly byte[] Secret = "0123456789abcdef0123456789abcdef"u8.ToArray();
    private static readonly byte[] Body = Samples.Bytes("text");

    private static string Valid => WebhookSignature.Sign(Body, Secret);

    [Test]
    public void The_header_is_sha256_and_the_lowercase_hex_hmac_of_the_body_under_the_app_secret()
    {
        // RFC 4231 test case 2: an independent check that Sign is HMAC-SHA256 with the secret as the key.
        Assert.That(WebhookSignature.Sign("what do ya want for nothing?"u8, "Jefe"u8),
            Is.EqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        Assert.That(Valid, Is.EqualTo("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Secret, Body))));
        Assert.That(WebhookSignature.HeaderName, Is.EqualTo("X-Hub-Signature-256"));
    }

    [Test]
    public void A_valid_signature_is_accepted() =>
        Assert.That(WebhookSignature.Verify(Body, Valid, Secret), Is.True);

    [Test]
    public void Upper_case_hex_is_accepted() =>
        Assert.That(WebhookSignature.Verify(Body, "sha256=" + Valid["sha256=".Length..].ToUpperInvariant(), Secret), Is.True);

    [Test]
    public void A_missing_or_empty_header_is_refused()
    {
        Assert.That(WebhookSignature.Verify(Body, null, Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body, "", Secret), Is.False);
    }

    [Test]
    public void The_bare_hex_without_the_sha256_prefix_is_refused() =>
        Assert.That(WebhookSignature.Verify(Body, Valid["sha256=".Length..], Secret), Is.False);

    [TestCase("SHA256=")]
    [TestCase("sha1=")]
    [TestCase("sha256:")]
    [TestCase("sha512=")]
    public void Another_prefix_is_refused(string prefix) =>
        Assert.That(WebhookSignature.Verify(Body, prefix + Valid["sha256=".Length..], Secret), Is.False);

    [Test]
    public void A_signature_made_with_another_secret_is_refused()
    {
        var other = (byte[])Secret.Clone();
        other[^1] ^= 1;

        Assert.That(WebhookSignature.Verify(Body, WebhookSignature.Sign(Body, other), Secret), Is.False);
    }

    [Test]
    public void A_body_changed_in_any_one_byte_is_refused()
    {
        var header = Valid;
        for (var i = 0; i < Body.Length; i++)
        {
            var changed = (byte[])Body.Clone();
            changed[i] ^= 0x01;
            Assert.That(WebhookSignature.Verify(changed, header, Secret), Is.False, $"byte {i}");
        }
    }

    [Test]
    public void A_body_with_a_byte_added_or_removed_is_refused()
    {
        Assert.That(WebhookSignature.Verify([.. Body, (byte)'\n'], Valid, Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body[..^1], Valid, Secret), Is.False);
    }

    [Test]
    public void Truncated_or_extended_hex_is_refused()
    {
        Assert.That(WebhookSignature.Verify(Body, Valid[..^1], Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body, Valid[..^2], Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body, Valid + "0", Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body, Valid + "00", Secret), Is.False);
        Assert.That(WebhookSignature.Verify(Body, "sha256=", Secret), Is.False);
    }

    [TestCase('g')]
    [TestCase('z')]
    [TestCase('-')]
    [TestCase('\u0660')]
    [TestCase('\uff10')]
    public void Non_hex_digits_are_refused(char bad)
    {
        var header = Valid[..^1] + bad;

        Assert.That(WebhookSignature.Verify(Body, header, Secret), Is.False);
    }

    [TestCase(" {0}")]
    [TestCase("{0} ")]
    [TestCase("{0}\n")]
    [TestCase("{0}\r\n")]
    [TestCase("\t{0}")]
    [TestCase("sha256= {1}")]
    public void Extra_whitespace_is_refused(string shape)
    {
        var hex = Valid["sha256=".Length..];
        var header = shape.Replace("{0}", Valid, StringComparison.Ordinal).Replace("{1}", hex, StringComparison.Ordinal);

        Assert.That(WebhookSignature.Verify(Body, header, Secret), Is.False);
    }

    [Test]
    public void Whitespace_inside_the_hex_is_refused_even_when_the_length_matches()
    {
        var hex = Valid["sha256=".Length..];

        Assert.That(WebhookSignature.Verify(Body, "sha256=" + hex[..10] + " " + hex[11..], Secret), Is.False);
    }

    [Test]
    public void An_empty_secret_verifies_nothing_and_signs_nothing()
    {
        var emptyKeyMac = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Array.Empty<byte>(), Body));

        Assert.That(WebhookSignature.Verify(Body, emptyKeyMac, []), Is.False);
        Assert.Throws<ArgumentException>(() => WebhookSignature.Sign(Body, []));
    }

    [Test]
    public void Sign_and_verify_round_trip_for_any_body_including_an_empty_one()
    {
        foreach (var body in new[] { [], "{}"u8.ToArray(), Encoding.UTF8.GetBytes(new string('\u00fc', 100_000)), Body })
        {
            Assert.That(WebhookSignature.Verify(body, WebhookSignature.Sign(body, Secret), Secret), Is.True);
        }
    }
}
