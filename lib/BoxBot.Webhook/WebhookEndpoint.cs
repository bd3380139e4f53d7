using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Webhook.Connections;
using BoxBot.WhatsApp.Inbound;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace BoxBot.Webhook;

/// <summary>
/// The webhook's one resource, <c>/webhook</c>: <c>GET</c> answers Meta's subscription handshake, <c>POST</c> takes a
/// signed delivery. Everything else is an empty 404. No response ever carries a body but the handshake's challenge.
/// </summary>
internal sealed class WebhookEndpoint
{
    public const string Path = "/webhook";
    private const int MaxChallengeLength = 256;

    private readonly WebhookOptions _options;
    private readonly byte[] _appSecret;
    private readonly byte[]? _verifyTokenHash;
    private readonly Spool _spool;
    private readonly ConnectionGovernor _governor;
    private readonly RateLimiter _limiter;
    private readonly WebhookCounters _counters;
    private readonly ILogger _log;
    private readonly LogThrottle _rejections;

    /// <param name="verifyToken">The handshake token; empty disables the handshake (503).</param>
    public WebhookEndpoint(WebhookOptions options, string appSecret, string verifyToken, Spool spool, ConnectionGovernor governor,
        RateLimiter limiter, WebhookCounters counters, ILogger log, TimeProvider time)
    {
        _governor = governor;
        _options = options;
        _appSecret = Encoding.UTF8.GetBytes(appSecret);
        _verifyTokenHash = verifyToken.Length == 0 ? null : SHA256.HashData(Encoding.UTF8.GetBytes(verifyToken));
        _spool = spool;
        _limiter = limiter;
        _counters = counters;
        _log = log;
        _rejections = new LogThrottle(time, TimeSpan.FromMinutes(1));
    }

    public async Task HandleAsync(HttpContext http)
    {
        var slot = ConnectionGovernor.Of(http);
        if (slot is not null)
        {
            _governor.BeginRequest(slot);
        }
        try
        {
            await RouteAsync(http, slot);
        }
        finally
        {
            if (slot is not null)
            {
                _governor.EndRequest(slot);
            }
            // Whatever is refused costs its sender the connection: a flood cannot keep a slot by sending refusals on it.
            if (http.Response.StatusCode >= 400 && !http.Response.HasStarted)
            {
                http.Response.Headers.Connection = "close";
            }
        }
    }

    private Task RouteAsync(HttpContext http, ConnectionGovernor.Slot? slot)
    {
        var request = http.Request;
        if (!string.Equals(request.Path.Value, Path, StringComparison.Ordinal))
        {
            return Empty(http, StatusCodes.Status404NotFound);
        }
        if (HttpMethods.IsPost(request.Method))
        {
            return ReceiveAsync(http, slot);
        }
        if (HttpMethods.IsGet(request.Method))
        {
            return HandshakeAsync(http);
        }
        return Empty(http, StatusCodes.Status404NotFound);
    }

    // Meta's subscription check: GET /webhook?hub.mode=subscribe&hub.verify_token=TOKEN&hub.challenge=NUMBER.
    private Task HandshakeAsync(HttpContext http)
    {
        if (_verifyTokenHash is null)
        {
            return Empty(http, StatusCodes.Status503ServiceUnavailable);
        }
        var query = http.Request.Query;
        if (One(query["hub.mode"]) is not "subscribe"
            || One(query["hub.verify_token"]) is not { } token
            || One(query["hub.challenge"]) is not { Length: > 0 and <= MaxChallengeLength } challenge
            || !challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), _verifyTokenHash))
        {
            _counters.RejectHandshake();
            Rejected("handshake", "a subscription handshake with a wrong or missing verify token");
            return Empty(http, StatusCodes.Status403Forbidden);
        }

        _log.LogInformation("answered Meta's subscription handshake");
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return http.Response.WriteAsync(challenge);
    }

    private async Task ReceiveAsync(HttpContext http, ConnectionGovernor.Slot? slot)
    {
        var request = http.Request;
        if (request.ContentLength > _options.MaxBodyBytes)
        {
            await TooLargeAsync(http);
            return;
        }
        // Refuse what cannot be signed before reading a byte of the body.
        if (One(request.Headers[WebhookSignature.HeaderName]) is not { } signature)
        {
            await ForgedAsync(http, "no single " + WebhookSignature.HeaderName + " header");
            return;
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request, http.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's minimum data rate, or a malformed body encoding: the connection is closed either way.
            _counters.RejectSlow();
            Rejected("slow", "a body that came too slowly or malformed: " + e.Message);
            return;
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            _counters.RejectSlow();
            Rejected("slow", $"a body not complete after {_options.BodyTimeout.TotalSeconds:0} s");
            http.Response.Headers.Connection = "close";
            await Empty(http, StatusCodes.Status408RequestTimeout);
            return;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            return; // the client went away
        }

        if (body is null)
        {
            await TooLargeAsync(http);
            return;
        }
        if (!WebhookSignature.Verify(body, signature, _appSecret))
        {
            await ForgedAsync(http, "a signature that does not match the body");
            return;
        }
        if (slot is not null)
        {
            _governor.MarkVerified(slot);
        }

        var delivery = WebhookPayload.Parse(body);
        if (delivery is null)
        {
            _counters.RejectJson();
            Rejected("json", "a signed delivery that is not a JSON object");
            await Empty(http, StatusCodes.Status400BadRequest);
            return;
        }
        foreach (var reason in delivery.Skipped)
        {
            _log.LogWarning("skipped part of a delivery: {Reason}", reason);
        }
        _counters.AddSkipped(delivery.Skipped.Count);

        var kept = new List<WhatsAppEvent>(delivery.Events.Count);
        var limited = 0;
        foreach (var e in delivery.Events)
        {
            // Receipts are about the box's own messages: only what people send is rate limited.
            if (e.Kind == WhatsAppEvent.MessageKind && !_limiter.TryAcquire(e.From ?? ""))
            {
                limited++;
                continue;
            }
            kept.Add(e);
        }
        if (limited > 0)
        {
            _counters.AddRateLimited(limited);
            Rejected("rate", $"{limited} message(s) over the rate limits (dropped, answered 200)");
        }

        if (kept.Count > 0)
        {
            StoreResult stored;
            try
            {
                stored = await _spool.StoreAsync(kept);
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or ObjectDisposedException)
            {
                // Not stored, so not 200: WhatsApp delivers it again later.
                _log.LogError("cannot write a delivery to the spool ({Reason}); answered 500 so WhatsApp retries it", e.Message);
                await Empty(http, StatusCodes.Status500InternalServerError);
                return;
            }
            _counters.AddAccepted(stored.Stored);
            _counters.AddDuplicate(stored.Duplicates);
            _log.LogDebug("delivery: {Stored} new, {Duplicates} duplicate, {Limited} rate limited", stored.Stored, stored.Duplicates, limited);
        }
        await Empty(http, StatusCodes.Status200OK);
    }

    /// <summary>The whole body, or null when it is longer than <c>max_body_bytes</c> (nothing past that is read).</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken aborted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(_options.BodyTimeout);
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(deadline.Token);
            var buffer = read.Buffer;
            if (buffer.Length > _options.MaxBodyBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            reader.AdvanceTo(buffer.Start, buffer.End); // keep it all until the end arrives
        }
    }

    private Task TooLargeAsync(HttpContext http)
    {
        _counters.RejectSize();
        Rejected("size", $"a body over max_body_bytes ({_options.MaxBodyBytes})");
        // Close rather than read the rest to keep the connection.
        http.Response.Headers.Connection = "close";
        return Empty(http, StatusCodes.Status413PayloadTooLarge);
    }

    private Task ForgedAsync(HttpContext http, string why)
    {
        _counters.RejectSignature();
        Rejected("signature", why);
        return Empty(http, StatusCodes.Status403Forbidden);
    }

    private void Rejected(string category, string what)
    {
        if (_rejections.ShouldLog(category, out var suppressed))
        {
            _log.LogWarning("refused {What} ({Suppressed} more refusals of this kind since the last such line; counters in `boxbot status`)", what, suppressed);
        }
    }

    private static string? One(StringValues values) => values.Count == 1 ? values[0] : null;

    private static Task Empty(HttpContext http, int status)
    {
        http.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}

/// <summary>At most one log line per category per period, so a flood of refusals cannot flood the journal.</summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan period)
{
    private readonly Dictionary<string, (long At, int Suppressed)> _last = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public bool ShouldLog(string category, out int suppressed)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_last.TryGetValue(category, out var last) && time.GetElapsedTime(last.At, now) < period)
            {
                _last[category] = (last.At, last.Suppressed + 1);
                suppressed = 0;
                return false;
            }
            suppressed = last.Suppressed;
            _last[category] = (now, 0);
            return true;
        }
    }
}
