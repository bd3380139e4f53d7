using System.Net;
using System.Net.Sockets;
using BoxBot.WhatsApp.Outbound;

namespace BoxBot.WhatsApp.Tests.Outbound;

public class GraphClientTests
{
    private const string Token = "EAAGtestTOKENvalue0123456789abcdef";
    private const string To = "4915112345678";

    private FakeGraph _graph = null!;
    private RecordingDelay _delay = null!;
    private CapturingLogger _log = null!;

    [SetUp]
    public async Task SetUp()
    {
        _graph = await FakeGraph.StartAsync();
        _delay = new RecordingDelay();
        _log = new CapturingLogger();
    }

    [TearDown]
    public async Task TearDown() => await _graph.DisposeAsync();

    [Test]
    public async Task A_message_is_posted_as_the_Cloud_API_expects_and_its_id_is_returned()
    {
        using var client = Client();

        var id = await client.SendTextAsync(To, "Hello \"box\" ✓");

        Assert.That(id, Is.EqualTo("wamid.1"));
        var request = _graph.Requests.Single();
        Assert.That(request.Method, Is.EqualTo("POST"));
        Assert.That(request.Path, Is.EqualTo("/v23.0/1234567890/messages"));
        Assert.That(request.Authorization, Is.EqualTo("Bearer " + Token));
        Assert.That(request.ContentType, Does.StartWith("application/json"));
        Assert.That(request.Body, Is.EqualTo(
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"text","text":{"preview_url":false,"body":"Hello \u0022box\u0022 \u2713"}}"""));
    }

    [Test]
    public async Task A_graph_url_with_a_path_and_another_version_keeps_both()
    {
        using var client = Client(Options() with { GraphUrl = new Uri(_graph.Url, "proxy/graph/"), ApiVersion = "v99.0" });

        await client.SendTextAsync(To, "hi");

        Assert.That(_graph.Requests.Single().Path, Is.EqualTo("/proxy/graph/v99.0/1234567890/messages"));
    }

    [Test]
    public async Task A_429_is_retried_after_the_wait_its_Retry_After_asks_for()
    {
        _graph.Then(Reply.Error(429, 130429, "Rate limit hit", retryAfter: "3"));
        using var client = Client();

        var id = await client.SendTextAsync(To, "hi");

        Assert.That(id, Is.EqualTo("wamid.1"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(2));
        Assert.That(_delay.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(3) }));
        Assert.That(_log.All, Does.Contain("try 2 of 4"));
    }

    [Test]
    public async Task Server_errors_500_and_503_are_retried_with_a_doubling_wait()
    {
        _graph.Then(new Reply(500, """{"error":{"message":"An unknown error has occurred.","type":"OAuthException","code":1,"fbtrace_id":"X"}}"""))
            .Then(new Reply(503, "Service Unavailable"));
        using var client = Client();

        var id = await client.SendTextAsync(To, "hi");

        Assert.That(id, Is.EqualTo("wamid.1"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(3));
        Assert.That(_delay.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) }));
    }

    [TestCase(130429, "(#130429) Rate limit hit")]
    [TestCase(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")]
    public async Task Graph_throughput_limits_are_retried(int code, string message)
    {
        _graph.Then(Reply.Error(400, code, message));
        using var client = Client();

        var id = await client.SendTextAsync(To, "hi");

        Assert.That(id, Is.EqualTo("wamid.1"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_400_with_code_100_is_not_retried_and_the_error_names_status_code_and_message()
    {
        _graph.Then(Reply.Error(400, 100, "(#100) Invalid parameter", subcode: 2494010, details: "Parameter 'to' is invalid"));
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(_graph.Requests, Has.Count.EqualTo(1));
        Assert.That(_delay.Waits, Is.Empty);
        Assert.That(e.HttpStatus, Is.EqualTo(400));
        Assert.That(e.GraphCode, Is.EqualTo(100));
        Assert.That(e.Message, Is.EqualTo("the WhatsApp Graph API refused the message to 4915112345678: HTTP 400, Graph error 100 (subcode 2494010): " +
            "(#100) Invalid parameter: Parameter 'to' is invalid (fbtrace_id AbCdEf123)"));
    }

    [Test]
    public async Task Error_131047_says_the_24_hour_window_is_closed_and_is_not_retried()
    {
        _graph.Then(Reply.Error(400, 131047, "Re-engagement message", details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."));
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Is.EqualTo("WhatsApp refused: more than 24 hours since 4915112345678 last wrote to the box; only template messages " +
            "may be sent until they write again (Graph error 131047)"));
        Assert.That(e.GraphCode, Is.EqualTo(131047));
        Assert.That(_graph.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Tries_end_after_the_last_attempt_with_the_last_answer()
    {
        for (var i = 0; i < 4; i++)
        {
            _graph.Then(new Reply(503, "upstream connect error"));
        }
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Is.EqualTo("the WhatsApp Graph API answered HTTP 503: upstream connect error (gave up after 4 tries)"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(4));
        Assert.That(_delay.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) }));
    }

    [Test]
    public async Task The_wait_between_tries_is_capped()
    {
        for (var i = 0; i < 4; i++)
        {
            _graph.Then(new Reply(502, ""));
        }
        using var client = Client(Options() with { FirstRetryDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromSeconds(15) });

        await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi"));

        Assert.That(_delay.Waits, Is.EqualTo(new[] { TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15) }));
    }

    [Test]
    public async Task A_Retry_After_longer_than_the_box_waits_ends_the_send_with_when_to_try_again()
    {
        _graph.Then(Reply.Error(429, 4, "(#4) Application request limit reached", retryAfter: "3600"));
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Does.Contain("asks to wait 3600 s before trying again, longer than the box waits (30 s)"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(1));
        Assert.That(_delay.Waits, Is.Empty);
    }

    [Test]
    public async Task No_answer_within_the_request_timeout_is_an_error_and_is_not_retried()
    {
        _graph.Then(Reply.NoAnswer());
        using var client = Client(Options() with { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Does.Contain("did not answer within 0.3 s; the message may or may not have been delivered"));
        Assert.That(e.HttpStatus, Is.Null);
        Assert.That(_graph.Requests, Has.Count.EqualTo(1), "a second try could deliver the message twice");
    }

    [Test]
    public async Task The_callers_cancellation_is_a_cancellation_not_a_timeout()
    {
        _graph.Then(Reply.NoAnswer());
        using var client = Client();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.CatchAsync<OperationCanceledException>(() => client.SendTextAsync(To, "hi", cancel.Token));
    }

    [Test]
    public async Task An_unreachable_Graph_API_is_tried_again_then_reported_with_its_address()
    {
        var closed = new Uri($"http://127.0.0.1:{ClosedPort()}/");
        using var client = Client(Options() with { GraphUrl = closed });

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Does.StartWith($"cannot reach the WhatsApp Graph API at {closed}v23.0/1234567890/messages: "));
        Assert.That(e.Message, Does.EndWith("(gave up after 4 tries)"));
        Assert.That(_delay.Waits, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task An_accepted_answer_without_a_message_id_is_an_error()
    {
        _graph.Then(new Reply(200, """{"messaging_product":"whatsapp","contacts":[],"messages":[]}"""));
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Does.StartWith("the WhatsApp Graph API answered HTTP 200 without a message id"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_expired_token_says_which_credential_to_replace()
    {
        _graph.Then(Reply.Error(401, 190, "Error validating access token: Session has expired", subcode: 463));
        using var client = Client();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!;

        Assert.That(e.Message, Does.Contain("HTTP 401, Graph error 190 (subcode 463)"));
        Assert.That(e.Message, Does.Contain("put a new one in the credential whatsapp-access-token"));
    }

    [Test]
    public async Task The_access_token_never_appears_in_an_error_or_the_log_even_when_an_answer_echoes_it()
    {
        _graph.Then(Reply.Error(401, 190, $"Invalid OAuth access token - {Token}"))
            .Then(new Reply(502, $"<html>bad gateway for Bearer {Token}</html>"))
            .Then(new Reply(502, $"<html>bad gateway for Bearer {Token}</html>"))
            .Then(new Reply(502, $"<html>bad gateway for Bearer {Token}</html>"))
            .Then(new Reply(502, $"<html>bad gateway for Bearer {Token}</html>"))
            .Then(Reply.NoAnswer());
        using var client = Client(Options() with { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        using var unreachable = Client(Options() with { GraphUrl = new Uri($"http://127.0.0.1:{ClosedPort()}/") });

        var errors = new[]
        {
            (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!,
            (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!,
            (await Assert.ThrowsAsync<GraphApiException>(() => client.SendTextAsync(To, "hi")))!,
            (await Assert.ThrowsAsync<GraphApiException>(() => unreachable.SendTextAsync(To, "hi")))!,
        };

        Assert.That(errors[0].Message, Does.Contain("Invalid OAuth access token - [access token]"), "the echo is there, masked");
        Assert.That(errors[1].Message, Does.Contain("bad gateway for Bearer [access token]"));
        foreach (var e in errors)
        {
            Assert.That(e.ToString(), Does.Not.Contain(Token));
        }
        Assert.That(_log.Lines, Is.Not.Empty);
        Assert.That(_log.All, Does.Not.Contain(Token));
    }

    [TestCase("EAAG token-with-a-space")]
    [TestCase("EAAGtoken\r\nX-Injected: yes")]
    [TestCase("EAAGtökén")]
    [TestCase("")]
    public void A_token_that_cannot_go_in_a_header_is_refused_without_being_quoted(string token)
    {
        var e = Assert.Throws<ArgumentException>(() => new GraphClient(Options(), token))!;

        Assert.That(e.Message, Does.Contain("whatsapp-access-token"));
        if (token.Length > 0)
        {
            Assert.That(e.Message, Does.Not.Contain(token));
        }
        Assert.That(_graph.Requests, Is.Empty);
    }

    private OutboundOptions Options() => OutboundOptions.Default with { GraphUrl = _graph.Url, PhoneNumberId = "1234567890" };

    private GraphClient Client(OutboundOptions? options = null) => new(options ?? Options(), Token, _log, _delay.WaitAsync);

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
