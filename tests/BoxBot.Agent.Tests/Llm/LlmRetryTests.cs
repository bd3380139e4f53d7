using System.Net;
using System.Net.Sockets;
using BoxBot.Agent.Llm;
using BoxBot.Config;
using static BoxBot.Agent.Tests.Llm.LlmTestSupport;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>
/// Retries, timeouts, refusals and cancellation, the same for both wire formats: what is worth another try gets up to
/// four, what is misconfiguration fails at once with what to fix, and the key appears in no message.
/// </summary>
[TestFixture(FakeLlmWire.Anthropic)]
[TestFixture(FakeLlmWire.OpenAi)]
public class LlmRetryTests(FakeLlmWire wire)
{
    private FakeLlmServer _server = null!;
    private RecordedDelays _delays = null!;
    private ILlmClient _client = null!;
    private readonly List<IDisposable> _clients = [];

    [SetUp]
    public void SetUp()
    {
        _server = FakeLlmServer.Start(wire);
        _delays = new RecordedDelays();
        _client = Client(_server.Options("test-model"));
    }

    [TearDown]
    public void TearDown()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        _server.Dispose();
    }

    /// <summary>A client from the factory, disposed after the test.</summary>
    private ILlmClient Client(LlmOptions options, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        var client = LlmClients.Create(options, Key, delay: delay ?? _delays.Delay) ?? throw new AssertionException("not configured");
        _clients.Add((IDisposable)client);
        return client;
    }

    [TestCase(429, "rate_limit_error")]
    [TestCase(529, "overloaded_error")]
    [TestCase(500, "api_error")]
    [TestCase(502, "api_error")]
    [TestCase(503, "api_error")]
    [TestCase(504, "api_error")]
    public async Task An_overloaded_or_failing_provider_is_tried_again_after_1_then_2_seconds(int status, string type)
    {
        _server.ThenError(status, type, "try later").ThenError(status, type, "try later").ThenText("finally");

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("finally") }));
        Assert.That(_server.Requests, Has.Count.EqualTo(3));
        Assert.That(_delays.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) }));
        Assert.That(_server.Requests.Select(r => r.Body).Distinct().Count(), Is.EqualTo(1), "every try sends the same request");
    }

    [Test]
    public async Task Retry_after_is_honoured_and_capped_at_60_seconds()
    {
        _server.ThenError(429, "rate_limit_error", "slow down", retryAfterSeconds: 7)
            .ThenError(529, "overloaded_error", "busy", retryAfterSeconds: 3600)
            .ThenError(429, "rate_limit_error", "slow down", retryAfterSeconds: 0)
            .ThenText("ok");

        await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(_delays.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(60), TimeSpan.Zero }));
    }

    [Test]
    public async Task After_four_tries_the_last_failure_is_reported_as_retryable()
    {
        for (var i = 0; i < 5; i++)
        {
            _server.ThenError(529, "overloaded_error", "Overloaded");
        }

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Is.EqualTo("the LLM provider is overloaded (529 overloaded_error): the provider said: Overloaded (gave up after 4 tries)"));
        Assert.That(e.Retryable, Is.True);
        Assert.That(_server.Requests, Has.Count.EqualTo(4));
        Assert.That(_delays.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) }));
    }

    [TestCase(401, "authentication_error", "the LLM provider refused the API key (401): check the credential llm-api-key")]
    [TestCase(403, "permission_error", "the LLM provider refused access (403): the API key in the credential llm-api-key may not be allowed")]
    [TestCase(404, "not_found_error", "model not found (404): check [agent.llm] model (\"test-model\") and base_url (the box posted to ")]
    [TestCase(400, "invalid_request_error", "the LLM provider refused the request (HTTP 400 invalid_request_error): the provider said: ")]
    [TestCase(413, "request_too_large", "the request is too large for the LLM provider (413)")]
    [TestCase(422, "unprocessable", "the LLM provider refused the request (HTTP 422 unprocessable): the provider said: ")]
    public async Task Misconfiguration_is_not_retried_and_says_what_to_fix_without_the_key(int status, string type, string expected)
    {
        // A provider or proxy that echoes the key must not get it into a message.
        _server.ThenError(status, type, $"invalid x-api-key: {Key}").ThenText("never asked");

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Does.StartWith(expected));
        Assert.That(e.Message, Does.Contain("invalid x-api-key: [llm-api-key]"));
        Assert.That(e.Message, Does.Not.Contain(Key));
        Assert.That(e.ToString(), Does.Not.Contain(Key));
        Assert.That(e.Retryable, Is.False);
        Assert.That(_server.Requests, Has.Count.EqualTo(1));
        Assert.That(_delays.Waits, Is.Empty);
    }

    [Test]
    public async Task A_refusal_that_is_not_json_is_quoted_in_part()
    {
        _server.Then(400, "<html><body>" + new string('x', 1000) + "</body></html>");

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Is.EqualTo("the LLM provider refused the request (HTTP 400): the answer was: <html><body>" + new string('x', 288) + "..."));
    }

    [Test]
    public async Task An_empty_failure_says_so()
    {
        _server.Then(502, "").Then(502, "").Then(502, "").Then(502, "");

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Is.EqualTo("the LLM provider failed (HTTP 502): the answer was: (empty) (gave up after 4 tries)"));
    }

    [Test]
    public async Task A_redirect_is_not_followed_so_the_key_goes_nowhere_else()
    {
        using var elsewhere = FakeLlmServer.Start(wire);
        _server.Then(307, "", new Dictionary<string, string> { ["Location"] = elsewhere.Url + "v1/messages" });

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Does.StartWith($"the LLM provider answered with a redirect (HTTP 307 to {elsewhere.Url}v1/messages): set [agent.llm] base_url"));
        Assert.That(e.Retryable, Is.False);
        Assert.That(elsewhere.Requests, Is.Empty);
    }

    [Test]
    public async Task A_try_that_times_out_is_tried_again()
    {
        var client = Client(_server.Options(timeout: TimeSpan.FromMilliseconds(300)));
        _server.ThenHang(TimeSpan.FromMinutes(5)).ThenText("awake");

        var response = await client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("awake") }));
        Assert.That(_server.Requests, Has.Count.EqualTo(2));
        Assert.That(_delays.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(1) }));
    }

    [Test]
    public async Task A_provider_that_never_answers_in_time_fails_after_four_tries_naming_the_timeout()
    {
        var client = Client(_server.Options(timeout: TimeSpan.FromMilliseconds(200)));
        for (var i = 0; i < 4; i++)
        {
            _server.ThenHang(TimeSpan.FromMinutes(5));
        }

        var e = (await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Does.EndWith("did not answer within 0.2 s ([agent.llm] timeout_s) (gave up after 4 tries)"));
        Assert.That(e.Retryable, Is.True);
        Assert.That(_server.Requests, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task A_provider_that_cannot_be_reached_is_retried_then_reported()
    {
        // A port that was just free: nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var client = Client(_server.Options() with { BaseUrl = new Uri($"http://127.0.0.1:{port}") });

        var e = (await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Does.StartWith($"cannot reach the LLM provider at http://127.0.0.1:{port}/v1/"));
        Assert.That(e.Message, Does.EndWith("(gave up after 4 tries)"));
        Assert.That(e.Retryable, Is.True);
        Assert.That(_delays.Waits, Has.Count.EqualTo(3));
    }

    [Test]
    public void Cancelling_a_call_waiting_for_the_provider_aborts_it_at_once()
    {
        _server.ThenHang(TimeSpan.FromMinutes(5));
        using var cancel = new CancellationTokenSource();

        var call = _client.CompleteAsync(Hello(), cancel.Token);
        WaitFor(() => _server.Requests.Count == 1);
        cancel.Cancel();

        // "At once" means without waiting out the provider (5 minutes) or the timeout (30 s); the bound is generous.
        Assert.That(() => call.Wait(TimeSpan.FromSeconds(20)), Throws.InstanceOf<AggregateException>()
            .With.InnerException.InstanceOf<OperationCanceledException>());
        Assert.That(_server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public void Cancelling_during_the_wait_between_tries_aborts_without_another_try()
    {
        var waiting = new TaskCompletionSource();
        var client = Client(_server.Options(), async (wait, token) =>
        {
            waiting.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
        });
        _server.ThenError(529, "overloaded_error", "busy").ThenText("never asked");
        using var cancel = new CancellationTokenSource();

        var call = client.CompleteAsync(Hello(), cancel.Token);
        Assert.That(waiting.Task.Wait(TimeSpan.FromSeconds(20)), Is.True);
        cancel.Cancel();

        Assert.That(() => call.Wait(TimeSpan.FromSeconds(20)), Throws.InstanceOf<AggregateException>()
            .With.InnerException.InstanceOf<OperationCanceledException>());
        Assert.That(_server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public void An_already_cancelled_call_sends_nothing()
    {
        Assert.That(() => _client.CompleteAsync(Hello(), new CancellationToken(canceled: true)).Wait(TimeSpan.FromSeconds(20)),
            Throws.InstanceOf<AggregateException>().With.InnerException.InstanceOf<OperationCanceledException>());
        Assert.That(_server.Requests, Is.Empty);
    }

    private static void WaitFor(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new AssertionException("timed out waiting for the fake LLM server");
            }

            Thread.Sleep(10);
        }
    }
}
