using System.Net;
using System.Text;

namespace BoxBot.Integration.Tests;

/// <summary>The webhook executable attacked over real HTTP: only genuine signed deliveries get in, and nothing that got a 200 is lost.</summary>
public class WebhookTests
{
    private WebhookBox _box = null!;

    [SetUp]
    public async Task SetUp()
    {
        _box = new WebhookBox("body_timeout_s = 2\nmax_body_bytes = 4096\n" + WebhookBox.NoRateLimits);
        await _box.StartWebhookAsync();
    }

    [TearDown]
    public async Task TearDown() => await _box.DisposeAsync();

    [Test]
    public async Task The_subscription_handshake_answers_the_raw_challenge_only_for_the_right_token()
    {
        using var http = _box.Http();

        using var ok = await http.GetAsync($"/webhook?hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}&hub.challenge=1158201444");
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ok.Content.ReadAsStringAsync(), Is.EqualTo("1158201444"));

        foreach (var query in new[]
        {
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            $"hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}x&hub.challenge=1",
            $"hub.mode=unsubscribe&hub.verify_token={WebhookBox.VerifyToken}&hub.challenge=1",
            $"hub.mode=subscribe&hub.challenge=1",
            $"hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}",
            $"hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}&hub.verify_token=wrong&hub.challenge=1",
            $"hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}&hub.challenge=%3Cscript%3E",
            "",
        })
        {
            using var refused = await http.GetAsync("/webhook?" + query);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), query);
            Assert.That(await refused.Content.ReadAsByteArrayAsync(), Is.Empty, query);
        }
        Assert.That(WebhookBox.Count(await _box.StatusAsync(), "rejected_handshake"), Is.EqualTo(8));
    }

    [Test]
    public async Task A_delivery_without_a_genuine_signature_gets_403_and_nothing_is_stored()
    {
        _box.StartAgent();
        var body = WebhookBox.TextDelivery("4915112345678", "wamid.forged1", "hello");
        var bytes = Encoding.UTF8.GetBytes(body);
        var good = WebhookBox.Signature(bytes);
        var oneByteChanged = (byte[])bytes.Clone();
        oneByteChanged[^3] ^= 1;
        var variants = new (string Name, byte[] Body, string[] Headers)[]
        {
            ("missing header", bytes, []),
            ("no sha256= prefix", bytes, [good["sha256=".Length..]]),
            ("sha1 prefix", bytes, ["sha1=" + good["sha256=".Length..]]),
            ("wrong secret", bytes, [WebhookBox.Signature(bytes, "not-the-secret")]),
            ("body changed by one byte", oneByteChanged, [good]),
            ("truncated hex", bytes, [good[..^2]]),
            ("empty", bytes, [""]),
            ("header repeated", bytes, [good, good]),
            ("trailing space", bytes, [good + " x"]),
        };
        using var http = _box.Http();
        foreach (var (name, body1, headers) in variants)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body1) };
            foreach (var h in headers)
            {
                request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", h);
            }
            using var response = await http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), name);
            Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty, name);
        }

        var status = await _box.StatusAsync();
        Assert.That(WebhookBox.Count(status, "rejected_signature"), Is.EqualTo(variants.Length));
        Assert.That(WebhookBox.Count(status, "accepted"), Is.Zero);
        Assert.That(WebhookBox.Count(status, "spooled"), Is.Zero);
        await Task.Delay(300);
        Assert.That(_box.Received, Is.Empty);
    }

    [Test]
    public async Task A_signed_delivery_is_stored_forwarded_once_and_a_redelivery_is_a_duplicate()
    {
        _box.StartAgent();
        var body = WebhookBox.TextDelivery("4915112345678", "wamid.HBgLNDkxNTExMjM0NTY3OBUCABIYFjNFQjA", "Hello box");
        using var http = _box.Http();

        using (var first = await http.SendAsync(WebhookBox.Signed(body)))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await first.Content.ReadAsByteArrayAsync(), Is.Empty);
        }
        using (var again = await http.SendAsync(WebhookBox.Signed(body)))
        {
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var status = await _box.WaitStatusAsync(s => WebhookBox.Count(s, "forwarded") == 1 && WebhookBox.Count(s, "duplicate") == 1);
        Assert.That(WebhookBox.Count(status, "accepted"), Is.EqualTo(1));
        Assert.That(WebhookBox.Count(status, "spooled"), Is.Zero);
        var e = _box.Received.Single();
        Assert.That((e.Kind, e.Id, e.From, e.Name, e.Type, e.Text, e.PhoneNumberId, e.Timestamp),
            Is.EqualTo(("message", "wamid.HBgLNDkxNTExMjM0NTY3OBUCABIYFjNFQjA", "4915112345678", "Test Person", "text", "Hello box", WebhookBox.PhoneNumberId, 1_700_000_000L)));
    }

    [Test]
    public async Task Metas_sample_deliveries_of_every_kind_are_taken_whole_and_reach_the_agent()
    {
        _box.StartAgent();
        var samples = Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "tests", "BoxBot.WhatsApp.Tests", "Inbound", "Samples"), "*.json");
        Assert.That(samples, Has.Length.GreaterThanOrEqualTo(15));
        using var http = _box.Http();
        var expected = new HashSet<string>();
        var otherFields = 0;
        foreach (var sample in samples)
        {
            var body = File.ReadAllText(sample);
            using (var doc = System.Text.Json.JsonDocument.Parse(body))
            {
                foreach (var change in doc.RootElement.GetProperty("entry").EnumerateArray().SelectMany(e => e.GetProperty("changes").EnumerateArray()))
                {
                    var value = change.GetProperty("value");
                    if (change.GetProperty("field").GetString() != "messages")
                    {
                        otherFields++; // e.g. template status updates: skipped, the rest of the delivery taken
                        continue;
                    }
                    foreach (var m in value.TryGetProperty("messages", out var ms) ? ms.EnumerateArray() : default)
                    {
                        expected.Add(m.GetProperty("id").GetString()!);
                    }
                    foreach (var st in value.TryGetProperty("statuses", out var ss) ? ss.EnumerateArray() : default)
                    {
                        expected.Add($"status:{st.GetProperty("id").GetString()}:{st.GetProperty("status").GetString()}");
                    }
                }
            }
            // Media ids and message ids repeat across Meta's examples: one delivery at a time, so each is judged alone.
            using var response = await http.SendAsync(WebhookBox.Signed(body));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), Path.GetFileName(sample));
        }

        var status = await _box.WaitStatusAsync(s => WebhookBox.Count(s, "spooled") == 0 && WebhookBox.Count(s, "forwarded") == expected.Count);
        Assert.That(WebhookBox.Count(status, "skipped"), Is.EqualTo(otherFields), _box.Webhook!.Log);
        Assert.That(_box.Received.Select(e => e.Key), Is.EquivalentTo(expected));
        Assert.That(_box.Received.Select(e => e.Kind).Distinct(), Is.EquivalentTo(new[] { "message", "status" }));
        Assert.That(_box.Received.Where(e => e.Kind == "message").Select(e => e.Type).Distinct().Count(), Is.GreaterThanOrEqualTo(10));
    }

    [Test]
    public async Task A_signed_body_that_is_not_JSON_gets_400()
    {
        using var http = _box.Http();
        foreach (var body in new[] { "not json", "{\"object\":", "[1,2,3]", "\"text\"", "" })
        {
            using var response = await http.SendAsync(WebhookBox.Signed(body));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body);
            Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
        }
        var status = await _box.StatusAsync();
        Assert.That(WebhookBox.Count(status, "rejected_json"), Is.EqualTo(5));
        Assert.That(WebhookBox.Count(status, "accepted"), Is.Zero);
    }

    [Test]
    public async Task A_body_over_the_limit_gets_413_before_the_rest_is_sent()
    {
        // Content-Length says limit + 1 and only 10 bytes follow: the answer must come without the rest.
        var head = "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=" + new string('0', 64) +
            "\r\nContent-Length: 4097\r\n\r\n{\"object\":";
        var answer = await _box.RawAsync(Encoding.ASCII.GetBytes(head), TimeSpan.FromSeconds(10));
        Assert.That(answer, Does.StartWith("HTTP/1.1 413 "));
        Assert.That(answer, Does.Contain("Connection: close").IgnoreCase);

        // Chunked, so no length up front: reading stops past the limit.
        var chunked = new StringBuilder("POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Hub-Signature-256: sha256=" + new string('0', 64) + "\r\n\r\n");
        for (var i = 0; i < 5; i++)
        {
            chunked.Append("400\r\n").Append('a', 1024).Append("\r\n");
        }
        answer = await _box.RawAsync(Encoding.ASCII.GetBytes(chunked.ToString()), TimeSpan.FromSeconds(10));
        Assert.That(answer, Does.StartWith("HTTP/1.1 413 "));

        // Exactly the limit is fine (and then fails only on its signature).
        using var http = _box.Http();
        using var atLimit = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(new byte[4096]) };
        atLimit.Headers.TryAddWithoutValidation("X-Hub-Signature-256", "sha256=" + new string('0', 64));
        using var response = await http.SendAsync(atLimit);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(WebhookBox.Count(await _box.StatusAsync(), "rejected_size"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_slow_body_is_cut_off_and_the_webhook_keeps_serving()
    {
        var head = "POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=" + new string('0', 64) + "\r\nContent-Length: 1000\r\n\r\n{\"obj";
        var started = DateTime.UtcNow;
        var answer = await _box.RawAsync(Encoding.ASCII.GetBytes(head), TimeSpan.FromSeconds(30));

        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(20)));
        Assert.That(answer, Is.Empty.Or.StartsWith("HTTP/1.1 408 "), "the connection is closed, with 408 when an answer is still possible");
        Assert.That(WebhookBox.Count(await _box.StatusAsync(), "rejected_slow"), Is.EqualTo(1));
        using var http = _box.Http();
        using var still = await http.GetAsync("/nothing");
        Assert.That(still.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Headers_that_never_finish_are_cut_off()
    {
        var answer = await _box.RawAsync("POST /webhook HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), TimeSpan.FromSeconds(30));
        Assert.That(answer, Is.Empty.Or.StartsWith("HTTP/1.1 408 "));
    }

    [TestCase("GET", "/")]
    [TestCase("GET", "/webhook/")]
    [TestCase("GET", "/WEBHOOK")]
    [TestCase("POST", "/webhooks")]
    [TestCase("POST", "/")]
    [TestCase("PUT", "/webhook")]
    [TestCase("DELETE", "/webhook")]
    [TestCase("PATCH", "/webhook")]
    [TestCase("OPTIONS", "/webhook")]
    [TestCase("HEAD", "/webhook")]
    [TestCase("GET", "/swagger")]
    [TestCase("GET", "/.env")]
    public async Task Every_other_path_and_method_gets_an_empty_404_without_a_server_banner(string method, string path)
    {
        using var http = _box.Http();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}");
        }
        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
        Assert.That(response.Headers.Contains("Server"), Is.False);
        Assert.That(response.Headers.Contains("X-Powered-By"), Is.False);
    }

    [Test]
    public async Task A_burst_while_the_agent_is_down_is_kept_and_delivered_once_in_order_per_sender_when_it_comes_back()
    {
        string[] senders = ["4915100000001", "4915100000002", "4915100000003", "4915100000004", "4915100000005"];
        const int PerSender = 40;
        await Task.WhenAll(senders.Select(async sender =>
        {
            using var http = _box.Http();
            for (var i = 0; i < PerSender; i++)
            {
                using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery(sender, $"wamid.{sender}.{i:D3}", $"message {i}")));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }
        }));
        var waiting = await _box.WaitStatusAsync(s => WebhookBox.Count(s, "accepted") == 200);
        Assert.That(WebhookBox.Count(waiting, "spooled"), Is.EqualTo(200));
        Assert.That(waiting["agent"], Does.StartWith("retrying"));

        _box.StartAgent();

        await _box.WaitStatusAsync(s => WebhookBox.Count(s, "forwarded") == 200 && WebhookBox.Count(s, "spooled") == 0);
        var received = _box.Received.ToList();
        Assert.That(received.Select(e => e.Id), Is.Unique);
        Assert.That(received, Has.Count.EqualTo(200));
        foreach (var sender in senders)
        {
            Assert.That(received.Where(e => e.From == sender).Select(e => e.Id), Is.EqualTo(Enumerable.Range(0, PerSender).Select(i => $"wamid.{sender}.{i:D3}")), sender);
        }
    }

    [Test]
    public async Task An_agent_that_refuses_gets_the_events_again_later_and_none_is_lost()
    {
        _box.AgentFails = "the agent is busy";
        _box.StartAgent();
        using var http = _box.Http();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915112345678", $"wamid.refused{i}", "hi")));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        var status = await _box.WaitStatusAsync(s => s["agent"].Contains("the agent is busy", StringComparison.Ordinal));
        Assert.That(WebhookBox.Count(status, "spooled"), Is.EqualTo(3));

        _box.AgentFails = null;

        await _box.WaitStatusAsync(s => WebhookBox.Count(s, "forwarded") == 3 && s["agent"] == "ok");
        Assert.That(_box.Received.Select(e => e.Id), Is.EqualTo(new[] { "wamid.refused0", "wamid.refused1", "wamid.refused2" }));
    }

    [Test]
    public async Task Messages_over_the_rate_limits_are_dropped_counted_and_still_answered_200()
    {
        await _box.DisposeAsync();
        _box = new WebhookBox("sender_messages_per_minute = 3\nglobal_messages_per_minute = 5\n");
        await _box.StartWebhookAsync();
        _box.StartAgent();
        using var http = _box.Http();

        for (var i = 0; i < 5; i++)
        {
            using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915100000001", $"wamid.a{i}", "spam")));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery($"491510000010{i}", $"wamid.b{i}", "hi")));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // Sender a: 3 of 5 (its own limit); then the others share what is left of the global 5: 2 of 4.
        var status = await _box.WaitStatusAsync(s => WebhookBox.Count(s, "forwarded") == 5);
        Assert.That(WebhookBox.Count(status, "rate_limited"), Is.EqualTo(4));
        Assert.That(_box.Received.Select(e => e.Id), Is.EqualTo(new[] { "wamid.a0", "wamid.a1", "wamid.a2", "wamid.b0", "wamid.b1" }));
    }
}
