using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace BoxBot.Plugins;

/// <summary>A download refused or failed; the message says which rule or what happened.</summary>
public sealed class PluginDownloadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How plugin bundles may be fetched from a URL.</summary>
/// <param name="AllowedHosts">Hosts a URL (and every redirect) may name: the host itself or a subdomain of it. Empty: no URL installs.</param>
/// <param name="RequireDigest">Refuse a download that names no digest.</param>
public sealed record PluginDownloadOptions(IReadOnlyList<string> AllowedHosts, bool RequireDigest = true)
{
    public long MaxBytes { get; init; } = PluginBundle.MaxBundleBytes;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    public int MaxRedirects { get; init; } = 5;
}

/// <summary>A fetched bundle: its bytes, its digest, and the URL it finally came from (its name picks the format).</summary>
public sealed record DownloadedBundle(byte[] Bytes, string Digest, Uri Url);

/// <summary>
/// Fetches a plugin bundle by URL more strictly than the reference (which checks only the first URL's host, follows any
/// redirect, takes http:// and needs no digest): HTTPS only; the host, and every redirect's, on the allowlist; at most
/// <see cref="PluginDownloadOptions.MaxBytes"/>, refused from the Content-Length before reading and counted while
/// streaming; hashed while streaming and compared with the digest given (<c>sha256:HEX</c> or bare hex, any case).
/// </summary>
public sealed class PluginDownload(HttpMessageHandler handler) : IDisposable
{
    private readonly HttpClient _http = new(handler, disposeHandler: true);

    /// <summary>Uses the system's trust store and resolver; redirects are followed here, never by the handler.</summary>
    public PluginDownload() : this(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
    {
    }

    /// <summary>The lower-case hex of a <c>sha256:HEX</c> or bare-hex digest; null for none; a refusal for anything else.</summary>
    public static string? NormalizeDigest(string? digest)
    {
        if (string.IsNullOrWhiteSpace(digest))
        {
            return null;
        }
        var hex = digest.Trim().ToLowerInvariant();
        hex = hex.StartsWith("sha256:", StringComparison.Ordinal) ? hex["sha256:".Length..] : hex;
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigitLower)
            ? hex
            : throw new PluginDownloadException($"the digest \"{digest.Trim()}\" is not sha256:<64 hex digits>");
    }

    public async Task<DownloadedBundle> GetAsync(Uri url, string? digest, PluginDownloadOptions options, IProgress<(long Read, long? Total)>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        var expected = NormalizeDigest(digest);
        if (expected is null && options.RequireDigest)
        {
            throw new PluginDownloadException("a digest is required for installs from a URL (sha256:HEX, as `boxbot plugins pack` prints it)");
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        try
        {
            var current = url;
            for (var redirects = 0; ; redirects++)
            {
                Allow(current, options, redirects == 0 ? "the URL" : "a redirect");
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= options.MaxRedirects)
                    {
                        throw new PluginDownloadException($"more than {options.MaxRedirects} redirects from {url}");
                    }
                    current = location.IsAbsoluteUri ? location : new Uri(current, location);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new PluginDownloadException($"{current} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }
                var total = response.Content.Headers.ContentLength;
                if (total > options.MaxBytes)
                {
                    throw new PluginDownloadException($"{current} is {total} bytes, more than the {options.MaxBytes} a plugin bundle may be");
                }
                var (bytes, hex) = await ReadAsync(current, response, total, options.MaxBytes, progress, deadline.Token);
                if (expected is not null && hex != expected)
                {
                    throw new PluginDownloadException($"digest mismatch: {current} is sha256:{hex}, not the sha256:{expected} named");
                }
                return new DownloadedBundle(bytes, "sha256:" + hex, current);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PluginDownloadException($"{url}: no complete answer within {options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e)
        {
            throw new PluginDownloadException($"{url}: {e.Message}{(e.InnerException is { } inner ? " (" + inner.Message + ")" : "")}", e);
        }
    }

    private static async Task<(byte[] Bytes, string Hex)> ReadAsync(Uri url, HttpResponseMessage response, long? total, long max,
        IProgress<(long Read, long? Total)>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var buffer = new MemoryStream();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new PluginDownloadException($"{url} sends more than the {max} bytes a plugin bundle may be");
            }
            hash.AppendData(chunk, 0, read);
            buffer.Write(chunk, 0, read);
            progress?.Report((buffer.Length, total));
        }
        return (buffer.ToArray(), Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    // HTTPS to a host on the allowlist (the host itself, or a subdomain of an entry).
    private static void Allow(Uri url, PluginDownloadOptions options, string what)
    {
        if (!url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttps)
        {
            throw new PluginDownloadException($"{what} {url} is not https://: plugins are fetched over HTTPS only");
        }
        if (options.AllowedHosts.Count == 0)
        {
            throw new PluginDownloadException("installs from a URL are off: no host is allowed (the plugin host's allowed_hosts is empty)");
        }
        var host = url.IdnHost.ToLowerInvariant();
        if (!options.AllowedHosts.Any(h => host == h.ToLowerInvariant() || host.EndsWith("." + h.ToLowerInvariant(), StringComparison.Ordinal)))
        {
            throw new PluginDownloadException($"{what} {url} names host {host}, which is not allowed (allowed: {string.Join(", ", options.AllowedHosts)})");
        }
    }

    public void Dispose() => _http.Dispose();
}
