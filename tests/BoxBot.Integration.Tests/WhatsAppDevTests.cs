using System.Globalization;
using System.Text.Json;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The WhatsApp channel on a whole development box (`boxbot dev up`, the published executables): a simulated delivery
/// goes through the real webhook and reaches the real agent's inbox; sends go to the outbox without credentials.
/// </summary>
public class WhatsAppDevTests
{
    private const string Admin = "4915112345678";
    private DevBox? _box;

    [OneTimeSetUp]
    public async Task StartBox()
    {
        _box = new DevBox(TestEnv.TempDir("whatsapp-dev"));
        await _box.StartAsync($"[webhook]\nport = 0\n[whatsapp]\nadmin_number = \"{Admin}\"\n[sandbox]\nwarm_jobs = 0\n");
    }

    [OneTimeTearDown]
    public void StopBox() => _box?.Dispose();

    [Test]
    public async Task A_simulated_message_goes_through_the_real_webhook_into_the_agents_inbox_once()
    {
        var before = InboxCount();

        var (code, stdout, stderr) = _box!.Boxbot(["whatsapp", "simulate", "--from", "+49 151 12345678", "--name", "Ana", "Hello box"]);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("delivered to the webhook").And.Contain("wamid."));
        await WaitAsync(() => InboxCount() == before + 1);
        var webhook = Details("webhook");
        Assert.That(webhook.GetProperty("rejected_signature").GetString(), Is.EqualTo("0"));
        Assert.That(long.Parse(webhook.GetProperty("forwarded").GetString()!, CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(1));
        Assert.That(_box.Dev.Log, Does.Contain("WhatsApp text message").And.Contain("from " + Admin));
    }

    [Test]
    public void A_sender_that_is_not_a_phone_number_is_a_usage_error()
    {
        var (code, _, stderr) = _box!.Boxbot(["whatsapp", "simulate", "--from", "not-a-number", "hi"]);

        Assert.That(code, Is.EqualTo(2), stderr);
    }

    [Test]
    public void Without_graph_credentials_a_send_to_the_admin_goes_to_the_outbox_and_anyone_else_is_refused()
    {
        var (code, stdout, stderr) = _box!.Boxbot(["whatsapp", "send", "--to", Admin, "Dinner is ready"]);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("NOT SENT"));
        var outbox = Path.Combine(_box.Home, "state", "boxbot", "whatsapp-outbox.jsonl");
        Assert.That(File.ReadAllText(outbox), Does.Contain("Dinner is ready").And.Contain("\"sent\":false"));
        Assert.That(File.GetUnixFileMode(outbox), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var refused = _box.Boxbot(["whatsapp", "send", "--to", "4915199999999", "hello stranger"]);
        Assert.That(refused.ExitCode, Is.EqualTo(1));
        Assert.That(refused.Stderr, Does.Contain("4915199999999"));
        Assert.That(File.ReadAllText(outbox), Does.Not.Contain("hello stranger"));
    }

    private long InboxCount() => long.Parse(Details("agent").GetProperty("whatsapp_inbox").GetString()!, CultureInfo.InvariantCulture);

    private JsonElement Details(string daemon)
    {
        var (_, stdout, stderr) = _box!.Boxbot(["status", "--json"]);
        Assert.That(stdout, Does.StartWith("{"), stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("daemons").EnumerateArray().Single(d => d.GetProperty("name").GetString() == daemon).GetProperty("details").Clone();
    }

    private static async Task WaitAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(100);
        }
    }
}
