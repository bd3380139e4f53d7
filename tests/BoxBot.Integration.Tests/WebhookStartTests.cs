using System.Collections.Concurrent;
using System.Net;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>What the webhook refuses to start with, and what survives it being killed.</summary>
public class WebhookStartTests
{
    [TestCase("0.0.0.0", "0.0.0.0 means every network interface")]
    [TestCase("::", ":: means every network interface")]
    [TestCase("192.168.1.20", "192.168.1.20 is not a loopback address")]
    [TestCase("10.0.0.7", "10.0.0.7 is not a loopback address")]
    public async Task An_address_that_is_not_loopback_stops_the_webhook_with_why_and_how(string address, string why)
    {
        await using var box = new WebhookBox($"listen_address = \"{address}\"\n");
        using var process = DaemonProcess.Start(Daemons.Webhook, box.Home, ["--config", box.Config]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain("refusing to listen on webhook.listen_address = \"" + address + "\"").And.Contain(why)
            .And.Contain("allow_public_bind = true").And.Contain("reverse proxy"));
        Assert.That(File.Exists(process.SocketPath), Is.False);
    }

    [Test]
    public async Task A_host_name_that_resolves_to_loopback_is_fine_and_allow_public_bind_lets_an_exposed_address_through()
    {
        await using (var named = new WebhookBox("listen_address = \"localhost\"\n"))
        {
            await named.StartWebhookAsync();
            Assert.That(named.Listen, Does.StartWith("127.0.0.1:").Or.StartWith("[::1]:"));
        }

        await using var exposed = new WebhookBox("listen_address = \"0.0.0.0\"\nallow_public_bind = true\n");
        await exposed.StartWebhookAsync();
        Assert.That(exposed.Webhook!.Log, Does.Contain("which is not loopback (webhook.allow_public_bind = true)"));
    }

    [Test]
    public async Task A_port_another_process_holds_stops_the_webhook_naming_the_setting_that_moves_it()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var box = new WebhookBox();
        File.WriteAllText(box.Config, $"[webhook]\nport = {port}\n");
        using var process = DaemonProcess.Start(Daemons.Webhook, box.Home, ["--config", box.Config]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain($"port {port} on 127.0.0.1 is already in use by another process")
            .And.Contain($"set [webhook] port in {box.Config}"));
    }

    [Test]
    public async Task Missing_credentials_stop_the_webhook_naming_each_one()
    {
        await using var box = new WebhookBox(verifyToken: null, appSecret: null);
        using var process = DaemonProcess.Start(Daemons.Webhook, box.Home, ["--config", box.Config]);

        Assert.That(process.WaitExit(), Is.EqualTo(1));
        Assert.That(process.Log, Does.Contain("credential 'whatsapp-app-secret' is missing").And.Contain("credential 'whatsapp-verify-token' is missing"));
    }

    [Test]
    public async Task An_empty_verify_token_turns_the_handshake_off_with_503()
    {
        await using var box = new WebhookBox(verifyToken: "");
        await box.StartWebhookAsync();
        using var http = box.Http();

        using var response = await http.GetAsync("/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=1");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task Kill_9_in_the_middle_of_a_burst_loses_nothing_that_was_answered_200()
    {
        await using var box = new WebhookBox(WebhookBox.NoRateLimits);
        await box.StartWebhookAsync();
        var answered = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
        {
            using var http = box.Http();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = $"wamid.kill.{n}.{i:D5}";
                try
                {
                    using var response = await http.SendAsync(WebhookBox.Signed(WebhookBox.TextDelivery($"49151000000{n:D2}", id, "burst")));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        answered.Add(id);
                    }
                }
                catch (HttpRequestException)
                {
                    return; // the webhook died under us: WhatsApp would retry whatever got no 200
                }
            }
        })).ToList();
        while (answered.Count < 150)
        {
            await Task.Delay(10);
        }

        box.KillWebhook();
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        Assert.That(answered, Has.Count.GreaterThanOrEqualTo(150));

        await box.StartWebhookAsync();
        box.StartAgent();
        var status = await box.WaitStatusAsync(s => WebhookBox.Count(s, "spooled") == 0 && WebhookBox.Count(s, "forwarded") >= answered.Count);
        var received = box.Received.Select(e => e.Id).ToList();
        Assert.That(received, Is.Unique);
        Assert.That(received, Is.SupersetOf(answered), "every delivery answered 200 before the kill reached the agent");
        Assert.That(box.Webhook!.Log, Does.Contain("from before the restart wait in the spool"));
        Assert.That(WebhookBox.Count(status, "forwarded"), Is.EqualTo(received.Count));
    }
}
