using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BoxBot.Mesh.Broker;

/// <summary>
/// The box's own certificate authority for the household broker's TLS (ECDSA P-256, with .NET's CertificateRequest, no
/// extra package): the CA signs the broker's server certificate, and every credential file boxbot writes carries the
/// CA's certificate, so a device checks that it talks to this box's broker and not to an impostor on the LAN.
/// </summary>
public static class MeshCertificates
{
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(20 * 365);
    private static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(2 * 365);

    /// <summary>A server certificate that expires within this is issued again.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>A new CA (certificate with its private key).</summary>
    public static X509Certificate2 CreateAuthority(string name, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Backdated a day: a device whose clock is a little behind still accepts it.
        return request.CreateSelfSigned(now.AddDays(-1), now + CaLifetime);
    }

    /// <summary>A server certificate for <paramref name="dnsNames"/> and <paramref name="addresses"/>, signed by <paramref name="authority"/>.</summary>
    public static X509Certificate2 IssueServer(X509Certificate2 authority, IReadOnlyList<string> dnsNames, IReadOnlyList<IPAddress> addresses, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames.FirstOrDefault() ?? "boxbot-nats"}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        // Inside the CA's validity (Create refuses otherwise).
        var notAfter = now + ServerLifetime < authority.NotAfter ? now + ServerLifetime : new DateTimeOffset(authority.NotAfter);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(authority, now.AddDays(-1), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The names a certificate covers (DNS names and addresses), to tell whether it must be issued again.</summary>
    public static IReadOnlySet<string> Names(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.UnionWith(extension.EnumerateDnsNames());
            names.UnionWith(extension.EnumerateIPAddresses().Select(a => a.ToString()));
        }
        return names;
    }

    /// <summary>The certificate's PEM and its private key's (PKCS#8) PEM.</summary>
    public static (string Certificate, string Key) ToPem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA private key");
        return (certificate.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
