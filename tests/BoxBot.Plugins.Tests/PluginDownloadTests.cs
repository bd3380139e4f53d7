using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BoxBot.Plugins;

namespace BoxBot.Plugins.Tests;

/// <summary>
/// Fetching bundles from a real HTTPS server on loopback (its own certificate, trusted by the test's handler only): a good
/// download with its digest, and each rule a download can break: http://, no digest, a wrong one, a host off the list,
/// a redirect off it, too many redirects, a Content-Length too large, a body that grows too large without one.
/// </summary>
public sealed class PluginDownloadTests
{
    private static readonly byte[] Bundle = RandomNumberGenerator.GetBytes(100_000);
    private static readonly string BundleDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Bundle));
    private TlsServer _server = null!;
    private PluginDownload _download = null!;
    private static readonly PluginDownloadOptions Options = new(["localhost"]) { MaxBytes = 1_000_000 };

    [SetUp]
    public void SetUp()
    {
        _server = new TlsServer();
        _download = new PluginDownload(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == _server.Certificate.GetCertHashString() },
        });
    }

    [TearDown]
    public void TearDown()
    {
        _download.Dispose();
        _server.Dispose();
    }

    private Uri Url(string path) => new($"https://localhost:{_server.Port}{path}");

    private async Task<string> RefusalAsync(Uri url, string? digest, PluginDownloadOptions? options = null)
    {
        try
        {
            await _download.GetAsync(url, digest, options ?? Options, null, CancellationToken.None);
        }
        catch (PluginDownloadException e)
        {
            return e.Message;
        }
        throw new AssertionException($"{url} was not refused");
    }

    [Test]
    public async Task A_bundle_comes_with_its_digest_checked_while_streaming_and_progress_reported()
    {
        var progress = new List<(long Read, long? Total)>();

        var got = await _download.GetAsync(Url("/redirect-to/good.tgz"), BundleDigest.ToUpperInvariant().Replace("SHA256:", "sha256:", StringComparison.Ordinal),
            Options, new SyncProgress(progress), CancellationToken.None);

        Assert.That(got.Bytes, Is.EqualTo(Bundle));
        Assert.That(got.Digest, Is.EqualTo(BundleDigest));
        Assert.That(got.Url.AbsolutePath, Is.EqualTo("/good.tgz"), "the redirect within the allowed host was followed");
        Assert.That(progress[^1], Is.EqualTo(((long)Bundle.Length, (long?)Bundle.Length)));
        Assert.That((await _download.GetAsync(Url("/good.tgz"), BundleDigest[7..], Options, null, CancellationToken.None)).Digest, Is.EqualTo(BundleDigest), "bare hex too");
    }

    [Test]
    public async Task Each_rule_refuses_its_download_saying_which()
    {
        Assert.That(await RefusalAsync(new Uri($"http://localhost:{_server.Port}/good.tgz"), BundleDigest), Does.Contain("is not https://"));
        Assert.That(await RefusalAsync(Url("/good.tgz"), null), Does.Contain("a digest is required"));
        Assert.That(await RefusalAsync(Url("/good.tgz"), "sha256:" + new string('0', 64)), Does.StartWith("digest mismatch"));
        Assert.That(await RefusalAsync(Url("/good.tgz"), "md5:1234"), Does.Contain("is not sha256:<64 hex digits>"));
        Assert.That(await RefusalAsync(new Uri("https://plugins.example.org/x.tgz"), BundleDigest), Does.Contain("names host plugins.example.org, which is not allowed"));
        Assert.That(await RefusalAsync(Url("/good.tgz"), BundleDigest, Options with { AllowedHosts = [] }), Does.Contain("installs from a URL are off"));
        Assert.That(await RefusalAsync(Url("/redirect-off"), BundleDigest), Does.Contain("a redirect https://evil.example.net/x.tgz names host evil.example.net"));
        Assert.That(await RefusalAsync(Url("/redirect-http"), BundleDigest), Does.Contain("a redirect http://localhost"));
        Assert.That(await RefusalAsync(Url("/loop"), BundleDigest), Does.Contain("more than 5 redirects"));
        Assert.That(await RefusalAsync(Url("/big-declared"), BundleDigest), Does.Contain("is 2000000 bytes, more than the 1000000"));
        Assert.That(await RefusalAsync(Url("/big-chunked"), BundleDigest), Does.Contain("sends more than the 1000000 bytes"));
        Assert.That(await RefusalAsync(Url("/missing"), BundleDigest), Does.Contain("answered HTTP 404"));
        Assert.That(_server.Requests, Does.Not.Contain("/x.tgz"), "nothing was asked of a host off the list");
    }

    [Test]
    public async Task A_subdomain_of_an_allowed_host_is_allowed_and_a_look_alike_is_not()
    {
        var options = Options with { AllowedHosts = ["example.org"] };

        Assert.That(await RefusalAsync(new Uri("https://example.org.evil.net/x.tgz"), BundleDigest, options), Does.Contain("not allowed"));
        Assert.That(await RefusalAsync(new Uri("https://notexample.org/x.tgz"), BundleDigest, options), Does.Contain("not allowed"));
        // Allowed, so it is asked for (and fails to resolve or connect here, which is a download error, not a refusal by rule).
        var e = await RefusalAsync(new Uri("https://plugins.example.org:1/x.tgz"), BundleDigest, options with { Timeout = TimeSpan.FromSeconds(5) });
        Assert.That(e, Does.Not.Contain("not allowed"));
    }

    private sealed class SyncProgress(List<(long, long?)> seen) : IProgress<(long Read, long? Total)>
    {
        public void Report((long Read, long? Total) value) => seen.Add(value);
    }

    /// <summary>HTTP/1.1 over TLS on loopback, one request per connection, with a self-signed certificate for localhost.</summary>
    private sealed class TlsServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public TlsServer()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            Certificate = X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public X509Certificate2 Certificate { get; }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public List<string> Requests { get; } = [];

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(Certificate);
                    using var reader = new StreamReader(tls, Encoding.ASCII, leaveOpen: true);
                    var path = (await reader.ReadLineAsync())!.Split(' ')[1];
                    while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
                    {
                    }
                    lock (Requests)
                    {
                        Requests.Add(path);
                    }
                    await AnswerAsync(tls, path);
                }
                catch (Exception e) when (e is IOException or AuthenticationException or SocketException or ObjectDisposedException)
                {
                    // The client hung up (as it should on a refused download).
                }
            }
        }

        private async Task AnswerAsync(SslStream tls, string path)
        {
            async Task Head(string status, string headers) =>
                await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n{headers}Connection: close\r\n\r\n"));
            switch (path)
            {
                case "/good.tgz":
                    await Head("200 OK", $"Content-Length: {Bundle.Length}\r\n");
                    await tls.WriteAsync(Bundle);
                    break;
                case "/redirect-to/good.tgz":
                    await Head("302 Found", "Location: /good.tgz\r\nContent-Length: 0\r\n");
                    break;
                case "/redirect-off":
                    await Head("302 Found", "Location: https://evil.example.net/x.tgz\r\nContent-Length: 0\r\n");
                    break;
                case "/redirect-http":
                    await Head("301 Moved Permanently", $"Location: http://localhost:{Port}/good.tgz\r\nContent-Length: 0\r\n");
                    break;
                case "/loop":
                    await Head("302 Found", "Location: /loop\r\nContent-Length: 0\r\n");
                    break;
                case "/big-declared":
                case "/big-chunked":
                    var chunked = path == "/big-chunked";
                    await Head("200 OK", chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 2000000\r\n");
                    var block = new byte[16 * 1024];
                    for (var sent = 0; sent < 2_000_000; sent += block.Length)
                    {
                        if (chunked)
                        {
                            await tls.WriteAsync(Encoding.ASCII.GetBytes($"{block.Length:x}\r\n"));
                        }
                        await tls.WriteAsync(block);
                        if (chunked)
                        {
                            await tls.WriteAsync("\r\n"u8.ToArray());
                        }
                    }
                    break;
                default:
                    await Head("404 Not Found", "Content-Length: 0\r\n");
                    break;
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
            Certificate.Dispose();
        }
    }
}
