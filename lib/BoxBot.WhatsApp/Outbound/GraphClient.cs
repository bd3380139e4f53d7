using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// Posts text messages to the WhatsApp Cloud API (<c>POST {graph_url}/{api_version}/{phone_number_id}/messages</c>),
/// retrying what is worth retrying. One instance, and so one connection pool, for the agent's lifetime.
/// </summary>
public sealed class GraphClient : IDisposable
{
    private const int MaxAnswerBytes = 1024 * 1024;

    private readonly OutboundOptions _options;
    private readonly string _token;
    private readonly HttpClient _http;
    private readonly ILogger _log;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    /// <param name="options">Where to post, and the limits on tries and time.</param>
    /// <param name="accessToken">The Cloud API access token (credential <c>whatsapp-access-token</c>); sent in the
    /// <c>Authorization</c> header only, never written to a message or a log.</param>
    /// <param name="logger">Receives a warning per retry.</param>
    /// <param name="delay">Waits between tries (tests pass one that records and returns at once); default <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</param>
    public GraphClient(OutboundOptions options, string accessToken, ILogger? logger = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(accessToken);
        if (options.PhoneNumberId.Length == 0 || !options.PhoneNumberId.All(char.IsAsciiDigit))
        {
            throw new ArgumentException($"phone_number_id must be the digits from the Meta app dashboard, got \"{options.PhoneNumberId}\"", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1, nameof(options.MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RequestTimeout, TimeSpan.Zero, nameof(options.RequestTimeout));
        // Checked here, without the value: HttpClient's own complaint about a bad header value quotes it.
        if (accessToken.Length == 0 || !accessToken.All(c => c is > ' ' and < '\x7f'))
        {
            throw new ArgumentException("the credential whatsapp-access-token is empty or holds characters that cannot go in an HTTP header " +
                "(a space, a line break or a non-ASCII character); paste the token from the Meta app dashboard again", nameof(accessToken));
        }
        _options = options;
        _token = accessToken;
        _log = logger ?? NullLogger.Instance;
        _delay = delay ?? Task.Delay;
        MessagesUri = options.MessagesUri;
        var handler = new SocketsHttpHandler
        {
            // The bearer token must go to the configured host only.
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            // A long-lived pool would keep talking to an address after Meta's DNS moved on.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per request, below: one token source covers sending and reading the answer
            MaxResponseContentBufferSize = MaxAnswerBytes,
        };
    }

    /// <summary>Where messages are posted.</summary>
    public Uri MessagesUri { get; }

    /// <summary>Sends one text message (at most <see cref="OutboundOptions.PartLimit"/> characters) and returns its <c>wamid</c>.</summary>
    /// <exception cref="GraphApiException">Refused, failed after the last try, unreachable, or no answer in time.</exception>
    public async Task<string> SendTextAsync(string to, string body, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(to);
        ArgumentNullException.ThrowIfNull(body);
        var payload = JsonSerializer.SerializeToUtf8Bytes(new GraphTextMessage { To = to, Text = new GraphText { Body = body } },
            GraphJsonContext.Default.GraphTextMessage);
        for (var attempt = 1; ; attempt++)
        {
            var result = await PostOnceAsync(to, payload, cancellationToken);
            if (result.Id is { } id)
            {
                return id;
            }
            var failure = result.Failure!;
            if (result.RetryAfter is not { } wait)
            {
                throw failure;
            }
            if (attempt >= _options.MaxAttempts)
            {
                throw new GraphApiException($"{failure.Message} (gave up after {attempt} tries)", failure.HttpStatus, failure.GraphCode, failure);
            }
            wait = wait == TimeSpan.Zero ? Backoff(attempt) : wait;
            if (wait > _options.MaxRetryDelay)
            {
                throw new GraphApiException($"{failure.Message}; the Graph API asks to wait {Seconds(wait)} s before trying again, " +
                    $"longer than the box waits ({Seconds(_options.MaxRetryDelay)} s): try again later", failure.HttpStatus, failure.GraphCode, failure);
            }
            OutboundLog.Retrying(_log, failure.Message, attempt + 1, _options.MaxAttempts, (long)wait.TotalMilliseconds);
            await _delay(wait, cancellationToken);
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The <paramref name="attempt"/>-th wait: the first delay, doubled each time, capped.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var ticks = _options.FirstRetryDelay.Ticks * Math.Pow(2, attempt - 1);
        return ticks >= _options.MaxRetryDelay.Ticks ? _options.MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>One POST. <see cref="Attempt.RetryAfter"/> is set (zero: use the backoff) when another try may succeed.</summary>
    private async Task<Attempt> PostOnceAsync(string to, byte[] payload, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, MessagesUri) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        int status;
        string body;
        RetryConditionHeaderValue? retryAfter;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            status = (int)response.StatusCode;
            retryAfter = response.Headers.RetryAfter;
            body = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Not retried: the request may have arrived, and another try could deliver the message twice.
            return Attempt.Fail(Error($"the WhatsApp Graph API ({MessagesUri}) did not answer within {Seconds(_options.RequestTimeout)} s; " +
                "the message may or may not have been delivered", null, null, e));
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError)
        {
            // Nothing was sent yet, so trying again cannot deliver the message twice.
            return Attempt.Retry(Error($"cannot reach the WhatsApp Graph API at {MessagesUri}: {e.Message}", null, null, e), TimeSpan.Zero);
        }
        catch (HttpRequestException e)
        {
            return Attempt.Fail(Error($"the request to the WhatsApp Graph API ({MessagesUri}) failed: {e.Message}; " +
                "the message may or may not have been delivered", null, null, e));
        }

        if (status is >= 200 and < 300)
        {
            var id = TryParse(body, GraphJsonContext.Default.GraphSendResponse)?.Messages?.FirstOrDefault()?.Id;
            return string.IsNullOrEmpty(id)
                ? Attempt.Fail(Error($"the WhatsApp Graph API answered HTTP {status} without a message id: {Snippet(body)}", status, null))
                : Attempt.Ok(id);
        }
        var error = TryParse(body, GraphJsonContext.Default.GraphErrorResponse)?.Error;
        var failure = Error(Describe(to, status, error, body), status, error?.Code);
        return status == 429 || status >= 500 || error?.Code is { } code && IsThroughputLimit(code)
            ? Attempt.Retry(failure, RetryAfter(retryAfter))
            : Attempt.Fail(failure);
    }

    // 130429: the business number's throughput; 131056: too many messages to one recipient; 4 and 80007: app and
    // account rate limits. All say "later", and a few seconds later usually works.
    private static bool IsThroughputLimit(int code) => code is 130429 or 131056 or 4 or 80007;

    private static string Describe(string to, int status, GraphError? error, string body)
    {
        if (error is null)
        {
            return $"the WhatsApp Graph API answered HTTP {status}: {Snippet(body)}";
        }
        if (error.Code == 131047)
        {
            return $"WhatsApp refused: more than 24 hours since {to} last wrote to the box; only template messages may be sent " +
                "until they write again (Graph error 131047)";
        }
        var subcode = error.Subcode is { } s ? $" (subcode {s})" : "";
        var details = error.ErrorData?.Details is { Length: > 0 } d && d != error.Message ? $": {Clean(d)}" : "";
        var hint = error.Code switch
        {
            190 => "; the access token is invalid or expired: put a new one in the credential whatsapp-access-token and restart the agent",
            10 or 200 => "; the access token lacks the whatsapp_business_messaging permission (Meta app dashboard)",
            131030 => $"; {to} is not on the test number's list of allowed recipients (Meta app dashboard, WhatsApp, API Setup)",
            _ => "",
        };
        var trace = error.FbTraceId is { Length: > 0 } t ? $" (fbtrace_id {Clean(t)})" : "";
        return $"the WhatsApp Graph API refused the message to {to}: HTTP {status}, Graph error {error.Code?.ToString(CultureInfo.InvariantCulture) ?? "without a code"}" +
            $"{subcode}: {Clean(error.Message ?? error.Type ?? "no message")}{details}{hint}{trace}";
    }

    /// <summary>The wait a <c>Retry-After</c> asks for (zero: none given, use the backoff).</summary>
    private static TimeSpan RetryAfter(RetryConditionHeaderValue? header)
    {
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.Zero);
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>A failure whose message has passed <see cref="Scrub"/>.</summary>
    private GraphApiException Error(string message, int? status, int? code, Exception? inner = null) => new(Scrub(message), status, code, inner);

    // Graph does not echo the token, but an answer from a proxy or a future version might: it never reaches a message.
    private string Scrub(string message) => message.Replace(_token, "[access token]", StringComparison.Ordinal);

    private static T? TryParse<T>(string body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Snippet(string body) => body.Length == 0 ? "(empty answer)" : Clean(body.Length > 300 ? body[..300] + "..." : body);

    private static string Clean(string s) => string.Concat(s.Select(c => char.IsControl(c) ? ' ' : c));

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private readonly record struct Attempt(string? Id, GraphApiException? Failure, TimeSpan? RetryAfter)
    {
        public static Attempt Ok(string id) => new(id, null, null);

        public static Attempt Fail(GraphApiException failure) => new(null, failure, null);

        public static Attempt Retry(GraphApiException failure, TimeSpan after) => new(null, failure, after);
    }
}
