using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The webhook's connection slots under attack (the mechanism; the figures are in bench/): more flooding connections
/// than max_connections, idle, half-sent or sending forged requests, and real deliveries on fresh connections still get
/// their 200 and reach the agent.
/// </summary>
public class WebhookFloodTests
{
    private const int MaxConnections = 20;

    private static string Config => $"max_connections = {MaxConnections}\nheader_timeout_s = 30\n" + WebhookBox.NoRateLimits;

    [Test]
    public async Task More_idle_and_half_sent_connections_than_slots_do_not_keep_a_real_delivery_out()
    {
        await using var box = new WebhookBox(Config);
        box.StartAgent();
        await box.StartWebhookAsync();
        var endpoint = IPEndPoint.Parse(box.Listen);
        // Three times the slots: connections that say nothing, and slowloris ones whose headers never end.
        var flood = new List<Socket>();
        for (var i = 0; i < 3 * MaxConnections; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await s.ConnectAsync(endpoint);
            if (i % 2 == 1)
            {
                await s.SendAsync(Encoding.ASCII.GetBytes("POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: "));
            }
            flood.Add(s);
        }

        try
        {
            for (var n = 0; n < 10; n++)
            {
                // A fresh connection for each delivery, as Meta may.
                using var http = box.Http();
                using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915112345678", $"wamid.flood{n}", "still here")));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"delivery {n}");
            }
            await WaitAsync(() => box.Received.Count >= 10);
            Assert.That(box.Received.Select(e => e.Id), Is.EquivalentTo(Enumerable.Range(0, 10).Select(n => $"wamid.flood{n}")));
            var status = await box.StatusAsync();
            Assert.That(WebhookBox.Count(status, "http_connections_reading"), Is.EqualTo(3 * MaxConnections),
                "the flood waits for a first request head that never comes, holding no slot");
            Assert.That(WebhookBox.Count(status, "http_connections"), Is.LessThanOrEqualTo(MaxConnections));
        }
        finally
        {
            foreach (var s in flood)
            {
                s.Dispose();
            }
        }
    }

    [Test]
    public async Task Unverified_connections_idling_in_every_slot_are_closed_to_let_a_real_delivery_in()
    {
        await using var box = new WebhookBox(Config);
        box.StartAgent();
        await box.StartWebhookAsync();
        var endpoint = IPEndPoint.Parse(box.Listen);
        // Three times the slots of connections that each make a request anyone may make (Meta's subscription check, which
        // answers 200 and keeps the connection) and then idle: each holds a slot, none is verified.
        var challenge = Encoding.ASCII.GetBytes(
            $"GET /webhook?hub.mode=subscribe&hub.verify_token={WebhookBox.VerifyToken}&hub.challenge=42 HTTP/1.1\r\nHost: x\r\n\r\n");
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 3 * MaxConnections; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(s);
                await s.ConnectAsync(endpoint);
                await s.SendAsync(challenge);
            }
            await box.WaitStatusAsync(d => WebhookBox.Count(d, "http_connections") >= MaxConnections - MaxConnections / 10);

            for (var n = 0; n < 5; n++)
            {
                using var http = box.Http();
                using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915112345678", $"wamid.idle{n}", "let me in")));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"delivery {n}");
            }
            await WaitAsync(() => box.Received.Count >= 5);
            var status = await box.StatusAsync();
            Assert.That(WebhookBox.Count(status, "http_connections_evicted"), Is.GreaterThan(0), "room was made by closing idle unverified connections");
            Assert.That(WebhookBox.Count(status, "http_connections"), Is.LessThanOrEqualTo(MaxConnections));
            Assert.That(WebhookBox.Count(status, "http_connections") - WebhookBox.Count(status, "http_connections_verified"),
                Is.LessThanOrEqualTo(MaxConnections - MaxConnections / 10), "unverified connections never hold the verified reserve");
        }
        finally
        {
            foreach (var s in flood)
            {
                s.Dispose();
            }
        }
    }

    [Test]
    public async Task A_forged_request_costs_its_connection_and_a_verified_connection_keeps_its_slot()
    {
        await using var box = new WebhookBox(Config);
        box.StartAgent();
        await box.StartWebhookAsync();
        using var http = box.Http();

        using var forged = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915112345678", "wamid.forged", "x"), "not-the-secret"));
        using var valid = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery("4915112345678", "wamid.real", "x")));

        Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(forged.Headers.ConnectionClose, Is.True, "a refusal closes its connection");
        Assert.That(valid.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(valid.Headers.ConnectionClose, Is.Not.True, "a verified connection stays open for the next delivery");
        var status = await box.WaitStatusAsync(d => WebhookBox.Count(d, "http_connections_verified") == 1);
        Assert.That(WebhookBox.Count(status, "http_connections"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_connection_that_says_nothing_loses_its_slot_after_the_header_timeout()
    {
        await using var box = new WebhookBox($"max_connections = {MaxConnections}\nheader_timeout_s = 1\n");
        await box.StartWebhookAsync();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPEndPoint.Parse(box.Listen));

        var status = await box.WaitStatusAsync(d => WebhookBox.Count(d, "http_connections_idle_closed") == 1);

        Assert.That(WebhookBox.Count(status, "http_connections"), Is.Zero);
        var buffer = new byte[16];
        silent.ReceiveTimeout = 5000;
        // Closed by the webhook: an orderly end or a reset, never data and never a wait.
        int received;
        try
        {
            received = silent.Receive(buffer);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            received = 0;
        }
        Assert.That(received, Is.Zero, "the webhook closed it");
    }

    private static async Task WaitAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(50);
        }
    }
}
