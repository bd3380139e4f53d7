using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace BoxBot.Mesh.Internal;

/// <summary>The one place that turns <see cref="MeshOptions"/> into NATS client options.</summary>
internal static class NatsOptionsMapper
{
    public static NatsOpts Map(MeshOptions options, ILogger logger)
    {
        var tls = NatsTlsOpts.Default;
        if (!string.IsNullOrEmpty(options.CaPem))
        {
            var ca = new X509Certificate2Collection();
            ca.ImportFromPem(options.CaPem);
            var client = string.IsNullOrEmpty(options.ClientCertificatePem) ? null
                : X509Certificate2.CreateFromPem(options.ClientCertificatePem, options.ClientKeyPem);
            tls = tls with
            {
                // Our own check, last: only the configured CA, and the URL's host name (the reference turns that check off).
                Mode = options.Url.Scheme == "tls" ? TlsMode.Require : TlsMode.Auto,
                ConfigureClientAuthentication = o =>
                {
                    o.RemoteCertificateValidationCallback = BrokerCertificateCheck.For(ca);
                    if (client is not null)
                    {
                        o.ClientCertificates = [client];
                    }
                    return ValueTask.CompletedTask;
                },
            };
        }
        return NatsOpts.Default with
        {
            Url = options.Url.AbsoluteUri,
            Name = options.Name,
            ConnectTimeout = options.ConnectTimeout,
            InboxPrefix = options.InboxPrefix,
            AuthOpts = string.IsNullOrEmpty(options.Jwt)
                ? NatsAuthOpts.Default with
                {
                    Username = NullIfEmpty(options.User),
                    Password = NullIfEmpty(options.Password),
                    Token = NullIfEmpty(options.Token),
                }
                : NatsAuthOpts.Default with { Jwt = options.Jwt, Seed = options.Seed },
            TlsOpts = tls,
            LoggerFactory = new SingleLoggerFactory(logger),
            // Fail fast on the first connect so a wrong URL or credential is reported, not retried forever;
            // once connected, the NATS client keeps reconnecting (its default).
            RetryOnInitialConnect = false,
        };
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>
/// Checks the broker's certificate against the configured CA alone (not the system's), for the server role, and for
/// the host name the client dialled. A refusal throws <see cref="BrokerCertificateException"/> saying which check failed:
/// the exception reaches the caller of connect unchanged, where NATS's own check would only say "rejected".
/// </summary>
internal static class BrokerCertificateCheck
{
    public static RemoteCertificateValidationCallback For(X509Certificate2Collection authorities) => (sender, certificate, _, errors) =>
    {
        var host = (sender as SslStream)?.TargetHostName ?? "";
        if (certificate is null)
        {
            throw new BrokerCertificateException("the broker sent no certificate");
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"));
        if (!chain.Build(leaf))
        {
            var status = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
            if (status.HasFlag(X509ChainStatusFlags.NotTimeValid))
            {
                throw new BrokerCertificateException(
                    $"the broker's certificate is outside its validity ({leaf.NotBefore:yyyy-MM-dd} to {leaf.NotAfter:yyyy-MM-dd}): expired or not yet valid (check this machine's clock too)");
            }
            if (status.HasFlag(X509ChainStatusFlags.UntrustedRoot) || status.HasFlag(X509ChainStatusFlags.PartialChain))
            {
                throw new BrokerCertificateException($"the broker's certificate ({leaf.Subject}) is not signed by the configured CA");
            }
            throw new BrokerCertificateException($"the broker's certificate was refused ({status})");
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            var names = string.Join(", ", leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>()
                .SelectMany(e => e.EnumerateDnsNames().Concat(e.EnumerateIPAddresses().Select(a => a.ToString()))));
            throw new BrokerCertificateException($"the broker's certificate does not name host '{host}' (it names: {names})");
        }
        return true;
    };
}

/// <summary>The broker's TLS certificate failed one of <see cref="BrokerCertificateCheck"/>'s checks.</summary>
internal sealed class BrokerCertificateException(string message) : Exception(message);
