using System.Globalization;
using System.Text.Json;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The WhatsApp channel and the user registry on a whole development box (`boxbot dev up`, the published executables):
/// bootstrap → primary admin → code → new user, every code and message through the real webhook and agent; unknown
/// senders reach nothing and hear nothing; sends go to the outbox without credentials, and only to registered users.
/// The steps share one box and build on each other, so they are one test.
/// </summary>
public class WhatsAppDevTests
{
    private const string Admin = "4915112345678";
    private const string Friend = "4915187654321";
    private const string Stranger = "4915199999999";
    private DevBox? _box;

    [OneTimeSetUp]
    public async Task StartBox()
    {
        _box = new DevBox(TestEnv.TempDir("whatsapp-dev"));
        await _box.StartAsync("[webhook]\nport = 0\n[sandbox]\nwarm_jobs = 0\n");
    }

    [OneTimeTearDown]
    public void StopBox() => _box?.Dispose();

    private string Outbox => Path.Combine(_box!.Home, "state", "boxbot", "whatsapp-outbox.jsonl");

    [Test]
    public async Task Bootstrap_admin_code_new_user_routing_sends_and_blocks_work_end_to_end_through_the_real_webhook()
    {
        await Bootstrap_through_the_real_webhook_makes_the_first_sender_the_primary_admin_and_closes();
        await An_admins_code_registers_a_new_user_and_their_messages_reach_the_inbox_while_a_strangers_do_not();
        Sends_go_to_registered_users_only_and_nothing_ever_went_to_the_stranger();
        await Five_wrong_codes_block_the_sender_and_an_admin_sees_and_lifts_the_block();
    }

    private async Task Bootstrap_through_the_real_webhook_makes_the_first_sender_the_primary_admin_and_closes()
    {
        var early = _box!.Boxbot(["code", "new"]);
        Assert.That(early.ExitCode, Is.EqualTo(1));
        Assert.That(early.Stderr, Does.Contain("no admin yet"));
        Assert.That(Users(), Is.Empty);

        var code = Code("bootstrap");
        Simulate(Admin, code, "Ana");

        await WaitAsync(() => Users().Count == 1);
        var admin = Users().Single();
        Assert.That(admin.GetProperty("number").GetString(), Is.EqualTo(Admin));
        Assert.That(admin.GetProperty("role").GetString(), Is.EqualTo("admin"));
        Assert.That(admin.GetProperty("primary").GetBoolean(), Is.True);
        Assert.That(admin.GetProperty("name_verified").GetBoolean(), Is.False);
        var closed = _box.Boxbot(["code", "bootstrap"]);
        Assert.That(closed.ExitCode, Is.EqualTo(1));
        Assert.That(closed.Stderr, Does.Contain("bootstrap is closed"));
        await WaitAsync(() => File.Exists(Outbox) && File.ReadAllText(Outbox).Contains("primary admin", StringComparison.Ordinal));
    }

    private async Task An_admins_code_registers_a_new_user_and_their_messages_reach_the_inbox_while_a_strangers_do_not()
    {
        var code = Code("new");
        Simulate(Stranger, "Hello box, I am your bank");
        Simulate(Stranger, "000000" == code ? "000001" : "000000");
        Simulate(Friend, $"  {code} ", "Bo\u202Eb");
        await WaitAsync(() => Users().Count == 2);
        var friend = Users().Single(u => u.GetProperty("number").GetString() == Friend);
        Assert.That(friend.GetProperty("role").GetString(), Is.EqualTo("user"));
        Assert.That(friend.GetProperty("name").GetString(), Is.EqualTo("Bob"));

        var before = InboxCount();
        Simulate(Friend, "Hello box");
        await WaitAsync(() => InboxCount() == before + 1);
        Assert.That(_box!.Dev.Log, Does.Contain("WhatsApp text message").And.Contain("from " + Friend));
        Assert.That(_box.Dev.Log, Does.Not.Contain("from " + Stranger));
        // Five deliveries so far (two codes, two from the stranger, one hello), every one handed to the agent.
        await WaitAsync(() => long.Parse(Details("webhook").GetProperty("forwarded").GetString()!, CultureInfo.InvariantCulture) == 5);
        Assert.That(Details("webhook").GetProperty("rejected_signature").GetString(), Is.EqualTo("0"));
    }

    private void Sends_go_to_registered_users_only_and_nothing_ever_went_to_the_stranger()
    {
        var (code, stdout, stderr) = _box!.Boxbot(["whatsapp", "send", "--to", Friend, "Dinner is ready"]);

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("NOT SENT"));
        Assert.That(File.ReadAllText(Outbox), Does.Contain("Dinner is ready").And.Contain("\"sent\":false"));
        Assert.That(File.GetUnixFileMode(Outbox), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var refused = _box.Boxbot(["whatsapp", "send", "--to", Stranger, "hello stranger"]);
        Assert.That(refused.ExitCode, Is.EqualTo(1));
        Assert.That(refused.Stderr, Does.Contain("not a registered user: " + Stranger));
        var recipients = File.ReadAllLines(Outbox).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("to").GetString()).ToHashSet();
        Assert.That(recipients, Is.EquivalentTo(new[] { Admin, Friend }));
    }

    private async Task Five_wrong_codes_block_the_sender_and_an_admin_sees_and_lifts_the_block()
    {
        for (var i = 0; i < 5; i++)
        {
            Simulate(Stranger, $"00000{i}");
        }
        // Two wrong guesses came from this number in the step before, within the same ten minutes.
        await WaitAsync(() => Blocked().Count == 1);
        var block = Blocked().Single();
        Assert.That(block.GetProperty("number").GetString(), Is.EqualTo(Stranger));
        Assert.That(block.GetProperty("level").GetInt32(), Is.EqualTo(1));
        var listed = _box!.Boxbot(["users", "list", "--blocked"]);
        Assert.That(listed.Stdout, Does.Contain(Stranger));

        var unblock = _box.Boxbot(["users", "unblock", Stranger]);
        Assert.That(unblock.ExitCode, Is.EqualTo(0), unblock.Stderr);
        Assert.That(Blocked(), Is.Empty);
        var demote = _box.Boxbot(["users", "demote", Admin]);
        Assert.That(demote.ExitCode, Is.EqualTo(1));
        Assert.That(demote.Stderr, Does.Contain("primary admin"));
    }

    [Test]
    public void Without_a_model_the_agent_runs_status_says_so_and_chat_refuses_with_the_reason()
    {
        Assert.That(Details("agent").GetProperty("llm").GetString(), Does.StartWith("not configured ("));

        var (code, stdout, stderr) = _box!.Boxbot(["chat", "--message", "hello"]);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Does.Contain("not configured").And.Contain("docs/agent.md"));
    }

    [Test]
    public void A_sender_that_is_not_a_phone_number_is_a_usage_error()
    {
        var (code, _, stderr) = _box!.Boxbot(["whatsapp", "simulate", "--from", "not-a-number", "hi"]);

        Assert.That(code, Is.EqualTo(2), stderr);
    }

    private string Code(string kind)
    {
        var (code, stdout, stderr) = _box!.Boxbot(["code", kind, "--json"]);
        Assert.That(code, Is.EqualTo(0), stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("code").GetString()!;
    }

    private void Simulate(string from, string text, string? name = null)
    {
        var args = new List<string> { "whatsapp", "simulate", "--from", from };
        if (name is not null)
        {
            args.AddRange(["--name", name]);
        }
        args.Add(text);
        var (code, stdout, stderr) = _box!.Boxbot([.. args]);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("delivered to the webhook"));
    }

    private List<JsonElement> Users() => List(["users", "list", "--json"], "users");

    private List<JsonElement> Blocked() => List(["users", "list", "--blocked", "--json"], "blocked");

    private List<JsonElement> List(string[] args, string property)
    {
        var (code, stdout, stderr) = _box!.Boxbot(args);
        Assert.That(code, Is.EqualTo(0), stderr);
        using var doc = JsonDocument.Parse(stdout);
        return [.. doc.RootElement.GetProperty(property).EnumerateArray().Select(e => e.Clone())];
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
