using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Llm;

/// <summary>
/// The HTTP side both wire formats share: one POST per try with its own timeout, retries with backoff on what an
/// overloaded or flaky provider answers, and refusals turned into messages that say what to fix. Every message
/// passes <see cref="Scrub"/>, so the API key never reaches an exception or a log, even when a provider or a proxy
/// echoes it.
/// </summary>
/// <remarks>
/// Retrying a model call cannot do harm twice the way a resent WhatsApp message can (the worst is paying for an
/// answer nobody read), so timeouts and dropped connections are retried too, not only 429 and 5xx.
/// </remarks>
internal sealed class LlmHttp : IDisposable
{
    /// <summary>Tries per call: the first and three more, after 1, 2 and 4 s unless the provider says how long.</summary>
    public const int MaxAttempts = 4;

    /// <summary>The longest wait a <c>Retry-After</c> gets; a provider asking for more is tried again after this anyway.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    // A model answer is a few KiB; a body this large is not one, and is not worth holding in memory.
    private const int MaxAnswerBytes = 8 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly string? _apiKey;
    private readonly Action<HttpRequestHeaders> _authorize;
    private readonly string _describe;
    private readonly string _model;
    private readonly TimeSpan _timeout;
    private readonly ILogger _log;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    /// <param name="endpoint">The URL every call is posted to.</param>
    /// <param name="describe">The client's <see cref="ILlmClient.Describe"/>, for logs.</param>
    /// <param name="model">The configured model name, for the 404 message.</param>
    /// <param name="timeout">Limit of one try, answer included.</param>
    /// <param name="apiKey">Only to scrub it from messages; <paramref name="authorize"/> puts it in the request.</param>
    /// <param name="authorize">Adds the provider's headers (key, version) to each request.</param>
    /// <param name="logger">Receives a warning per retry and a debug line per call.</param>
    /// <param name="delay">Waits between tries; tests pass one that records and returns at once.</param>
    /// <param name="handler">The HTTP handler; null for a <see cref="SocketsHttpHandler"/> that follows no redirects.</param>
    public LlmHttp(Uri endpoint, string describe, string model, TimeSpan timeout, string? apiKey, Action<HttpRequestHeaders> authorize,
        ILogger? logger, Func<TimeSpan, CancellationToken, Task>? delay, HttpMessageHandler? handler)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Endpoint = endpoint;
        _describe = describe;
        _model = model;
        _timeout = timeout;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _authorize = authorize;
        _log = logger ?? NullLogger.Instance;
        _delay = delay ?? Task.Delay;
        handler ??= new SocketsHttpHandler
        {
            // The key goes to the configured host only: a redirect is reported, not followed.
            AllowAutoRedirect = false,
            UseCookies = false,
            // A long-lived pool would keep talking to an address after the provider's DNS moved on.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per try, below: one token source covers sending and reading the answer
            MaxResponseContentBufferSize = MaxAnswerBytes,
        };
    }

    /// <summary>Where calls are posted.</summary>
    public Uri Endpoint { get; }

    /// <summary>Characters that cannot go in an HTTP header (checked without echoing the key: HttpClient's own complaint quotes it).</summary>
    public static bool IsHeaderSafe(string value) => value.Length > 0 && value.All(c => c is > ' ' and < '\x7f');

    /// <summary>Posts <paramref name="body"/> (JSON) and returns the 2xx answer's body, trying again where that can help.</summary>
    /// <exception cref="LlmException">Refused, failed after the last try, unreachable, or no answer in time.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the turn was abandoned).</exception>
    public async Task<Answer> PostAsync(byte[] body, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var result = await PostOnceAsync(body, cancellationToken);
            if (result.Body is { } answer)
            {
                return new Answer(answer, attempt, clock.Elapsed);
            }

            var failure = result.Failure!;
            if (!result.Retry)
            {
                throw failure;
            }

            if (attempt >= MaxAttempts)
            {
                throw new LlmException($"{failure.Message} (gave up after {attempt} tries)", retryable: true, failure);
            }

            var wait = result.RetryAfter ?? Backoff(attempt);
            LlmLog.Retrying(_log, _describe, failure.Message, attempt + 1, MaxAttempts, (long)wait.TotalMilliseconds);
            await _delay(wait, cancellationToken);
        }
    }

    /// <summary>Records the outcome of a call at debug level.</summary>
    public void LogCall(LlmResponse response, Answer answer) =>
        LlmLog.Called(_log, _describe, response.StopReason, response.InputTokens, response.OutputTokens, answer.Attempts,
            (long)answer.Elapsed.TotalMilliseconds);

    /// <summary>A malformed 2xx answer: not retried (the same endpoint would likely answer the same), named in the message.</summary>
    public LlmException Malformed(string what, Exception? inner = null) =>
        new(Scrub($"the LLM provider's answer ({Endpoint}) is unusable: {what}"), retryable: false, inner);

    public void Dispose() => _http.Dispose();

    /// <summary>The <paramref name="attempt"/>-th wait: 1 s, doubled each time.</summary>
    private static TimeSpan Backoff(int attempt) => FirstRetryDelay * Math.Pow(2, attempt - 1);

    /// <summary>One POST, and whether another try may succeed.</summary>
    private async Task<Attempt> PostOnceAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _authorize(request.Headers);
        int status;
        string text;
        RetryConditionHeaderValue? retryAfter;
        Uri? location;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            status = (int)response.StatusCode;
            retryAfter = response.Headers.RetryAfter;
            location = response.Headers.Location;
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return Attempt.Again(Error($"the LLM provider ({Endpoint}) did not answer within {Seconds(_timeout)} s " +
                "([agent.llm] timeout_s)", retryable: true, e), null);
        }
        catch (HttpRequestException e)
        {
            return Attempt.Again(Error($"cannot reach the LLM provider at {Endpoint}: {e.Message}", retryable: true, e), null);
        }

        if (status is >= 200 and < 300)
        {
            return Attempt.Ok(text);
        }

        var failure = Refusal(status, text, location);
        return Retryable(status) ? Attempt.Again(failure, RetryAfter(retryAfter)) : Attempt.Fail(failure);
    }

    // 529 is Anthropic's "overloaded"; 408 a proxy that gave up waiting. Everything else in 4xx is this box's fault
    // and would fail the same way again.
    private static bool Retryable(int status) => status is 408 or 429 or 500 or 502 or 503 or 504 or 529;

    /// <summary>What a refusal means for the person reading the admin log, with the provider's own words after it.</summary>
    private LlmException Refusal(int status, string body, Uri? location)
    {
        var (type, message) = ProviderError(body);
        var code = type is null ? $"{status}" : $"{status} {type}";
        var said = message is null ? $"the answer was: {Snippet(body)}" : $"the provider said: {message}";
        var text = status switch
        {
            401 when _apiKey is null => $"the LLM provider asks for an API key (401): put it in the credential llm-api-key ({said})",
            401 => $"the LLM provider refused the API key (401): check the credential llm-api-key ({said})",
            403 => $"the LLM provider refused access (403): the API key in the credential llm-api-key may not be allowed this model " +
                $"or endpoint ({said})",
            404 => $"model not found (404): check [agent.llm] model (\"{_model}\") and base_url (the box posted to {Endpoint}) ({said})",
            413 => $"the request is too large for the LLM provider (413): the conversation or a tool result is too long ({said})",
            429 => $"the LLM provider is rate-limiting the box ({code}): {said}",
            529 => $"the LLM provider is overloaded ({code}): {said}",
            >= 300 and < 400 => $"the LLM provider answered with a redirect (HTTP {status}" +
                (location is null ? "" : $" to {location}") + "): set [agent.llm] base_url to the final address (the box does not " +
                "follow redirects, so the API key goes to the configured host only)",
            >= 500 => $"the LLM provider failed (HTTP {code}): {said}",
            _ => $"the LLM provider refused the request (HTTP {code}): {said}",
        };
        return Error(text, Retryable(status), null);
    }

    /// <summary>
    /// The error's type and message in the shapes providers use: Anthropic's <c>{"type":"error","error":{"type","message"}}</c>,
    /// OpenAI's and llama.cpp's <c>{"error":{"message","type","code"}}</c>, Ollama's <c>{"error":"..."}</c>.
    /// </summary>
    private static (string? Type, string? Message) ProviderError(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("error", out var error))
            {
                return (null, null);
            }

            return error.ValueKind switch
            {
                JsonValueKind.String => (null, Clean(error.GetString()!)),
                JsonValueKind.Object => (StringOf(error, "type"), StringOf(error, "message")),
                _ => (null, null),
            };
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Clean(value.GetString()!) : null;

    /// <summary>The wait a <c>Retry-After</c> asks for, at most <see cref="MaxRetryAfter"/>; null when none was given.</summary>
    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null ? null
            : wait < TimeSpan.Zero ? TimeSpan.Zero
            : wait > MaxRetryAfter ? MaxRetryAfter
            : wait;
    }

    private LlmException Error(string message, bool retryable, Exception? inner) => new(Scrub(message), retryable, inner);

    // Providers do not echo the key, but an answer from a proxy or a future version might: it never reaches a message.
    private string Scrub(string message) => _apiKey is null ? message : Scrub(message, _apiKey);

    /// <summary>
    /// <paramref name="message"/> with <paramref name="key"/> replaced by <c>[llm-api-key]</c> wherever it occurs. A short
    /// key (a local server's "test") is replaced only where it stands alone, not inside a longer run of key characters,
    /// so that it does not mangle the words around it ("check"); an echoed key sits between quotes, spaces or
    /// punctuation and is caught either way. Real provider keys are long and replaced everywhere.
    /// </summary>
    internal static string Scrub(string message, string key)
    {
        const int Short = 16;
        var text = new StringBuilder(message.Length);
        var from = 0;
        for (var at = message.IndexOf(key, StringComparison.Ordinal); at >= 0; at = message.IndexOf(key, at + 1, StringComparison.Ordinal))
        {
            var end = at + key.Length;
            if (at < from
                || (key.Length < Short && ((at > 0 && IsKeyChar(message[at - 1])) || (end < message.Length && IsKeyChar(message[end])))))
            {
                continue;
            }

            text.Append(message, from, at - from).Append("[llm-api-key]");
            from = end;
        }

        return text.Append(message, from, message.Length - from).ToString();
    }

    private static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private static string Snippet(string body) => body.Length == 0 ? "(empty)" : Clean(body.Length > 300 ? body[..300] + "..." : body);

    private static string Clean(string s)
    {
        s = string.Concat(s.Select(c => char.IsControl(c) ? ' ' : c));
        return s.Length > 500 ? s[..500] + "..." : s;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>A 2xx answer and what it took to get it.</summary>
    public readonly record struct Answer(string Body, int Attempts, TimeSpan Elapsed);

    /// <param name="RetryAfter">The wait the provider asked for; null: none, use the backoff.</param>
    private readonly record struct Attempt(string? Body, LlmException? Failure, bool Retry, TimeSpan? RetryAfter)
    {
        public static Attempt Ok(string body) => new(body, null, false, null);

        public static Attempt Fail(LlmException failure) => new(null, failure, false, null);

        public static Attempt Again(LlmException failure, TimeSpan? after) => new(null, failure, true, after);
    }
}
