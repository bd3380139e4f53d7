using System.Collections.Concurrent;
using System.Text.Json;
using BoxBot.WhatsApp.Outbound;
using Microsoft.Extensions.Logging;

namespace BoxBot.WhatsApp.Tests.Outbound;

public class OutboundSenderTests
{
    private const string Token = "EAAGsenderTOKEN0123456789";
    private const string Admin = "4915112345678";

    private FakeGraph _graph = null!;
    private TempFolder _dir = null!;
    private CapturingLogger _log = null!;
    private RecordingDelay _delay = null!;
    private ConcurrentQueue<SentPart> _recorded = null!;

    [SetUp]
    public async Task SetUp()
    {
        _graph = await FakeGraph.StartAsync();
        _dir = new TempFolder();
        _log = new CapturingLogger();
        _delay = new RecordingDelay();
        _recorded = new ConcurrentQueue<SentPart>();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Test]
    public async Task A_10000_character_text_goes_as_three_messages_in_order_and_every_id_is_returned_and_recorded()
    {
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"w{i % 10:0000}"))[..10_000];
        using var sender = Sender();

        var result = await sender.SendTextAsync(Admin, text, "uid 1000");

        Assert.That(result.Outcome, Is.EqualTo("sent"));
        Assert.That(result.Parts, Is.EqualTo(3));
        Assert.That(result.MessageIds, Is.EqualTo(new[] { "wamid.1", "wamid.2", "wamid.3" }));
        Assert.That(result.Outbox, Is.Null);
        var bodies = _graph.Requests.Select(r => Body(r.Body)).ToList();
        Assert.That(bodies, Is.EqualTo(TextSplitter.Split(text)));
        Assert.That(string.Concat(bodies), Is.EqualTo(text));
        Assert.That(_recorded.Select(p => (p.Id, p.To, p.Part, p.Parts)), Is.EqualTo(new[]
        {
            ("wamid.1", Admin, 1, 3), ("wamid.2", Admin, 2, 3), ("wamid.3", Admin, 3, 3),
        }));
        Assert.That(_recorded.Select(p => p.Text), Is.EqualTo(bodies));
    }

    [Test]
    public async Task One_line_is_logged_per_send_with_recipient_parts_and_ids_but_never_the_text()
    {
        using var sender = Sender();

        await sender.SendTextAsync(Admin, "the secret plan", "uid 1000");

        var line = _log.Lines.Single();
        Assert.That(line.Level, Is.EqualTo(LogLevel.Information));
        Assert.That(line.Text, Is.EqualTo("WhatsApp message to 4915112345678 from uid 1000: 1 part(s) sent (wamid.1)"));
        Assert.That(_log.All, Does.Not.Contain("secret plan"));
    }

    [Test]
    public async Task A_recipient_the_box_may_not_send_to_is_refused_before_any_request()
    {
        using var sender = Sender();

        var e = (await Assert.ThrowsAsync<RecipientRefusedException>(() => sender.SendTextAsync("+44 7700 900123", "hello", "uid 1000")))!;

        Assert.That(e.Message, Is.EqualTo("not a registered user: 447700900123; the box sends only to registered users"));
        Assert.That(e.Recipient, Is.EqualTo("447700900123"));
        Assert.That(_graph.Requests, Is.Empty);
        Assert.That(_recorded, Is.Empty);
        Assert.That(File.Exists(sender.OutboxPath), Is.False);
    }

    [Test]
    public async Task A_refused_recipient_is_not_written_to_the_outbox_either()
    {
        using var sender = Sender(token: null);

        await Assert.ThrowsAsync<RecipientRefusedException>(() => sender.SendTextAsync("447700900123", "hello", "uid 1000"));

        Assert.That(File.Exists(sender.OutboxPath), Is.False);
    }

    [TestCase("+49 (151) 123-45678")]
    [TestCase(" 4915112345678 ")]
    [TestCase("+4915112345678")]
    [TestCase("49.151.12345678")]
    public async Task A_number_written_with_plus_spaces_or_dashes_is_sent_as_digits(string written)
    {
        using var sender = Sender();

        await sender.SendTextAsync(written, "hi", "uid 1000");

        Assert.That(To(_graph.Requests.Single().Body), Is.EqualTo(Admin));
    }

    [TestCase("004915112345678", "starts with 0")]
    [TestCase("015112345678", "starts with 0")]
    [TestCase("123456", "fewer than 7 digits")]
    [TestCase("1234567890123456", "more than 15 digits")]
    [TestCase("49151abc", "only digits")]
    [TestCase("4915112345678\n4915199999999", "only digits")]
    [TestCase("49+15112345678", "only digits")]
    [TestCase("", "fewer than 7 digits")]
    [TestCase("٤٩١٥١١٢٣٤٥٦٧٨", "only digits")]
    public async Task A_malformed_number_is_invalid_and_nothing_is_sent(string number, string why)
    {
        using var sender = Sender(allowed: _ => true);

        var e = (await Assert.ThrowsAsync<InvalidOutboundMessageException>(() => sender.SendTextAsync(number, "hi", "uid 1000")))!;

        Assert.That(e.Message, Does.Contain(why));
        Assert.That(e.Message, Does.Contain("such as 4915112345678"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(_graph.Requests, Is.Empty);
    }

    [TestCase("")]
    [TestCase(" \n\t ")]
    public async Task An_empty_text_is_invalid(string text)
    {
        using var sender = Sender();

        var e = (await Assert.ThrowsAsync<InvalidOutboundMessageException>(() => sender.SendTextAsync(Admin, text, "uid 1000")))!;

        Assert.That(e.Message, Is.EqualTo("text is empty; there is nothing to send"));
        Assert.That(_graph.Requests, Is.Empty);
    }

    [Test]
    public async Task A_text_over_the_part_cap_is_invalid_and_one_at_the_cap_is_sent()
    {
        using var sender = Sender(options: Options() with { MaxParts = 2 });

        var e = (await Assert.ThrowsAsync<InvalidOutboundMessageException>(() => sender.SendTextAsync(Admin, new string('x', 8193), "uid 1000")))!;
        var result = await sender.SendTextAsync(Admin, new string('x', 8192), "uid 1000");

        Assert.That(e.Message, Is.EqualTo("text is 8193 characters; at most 8192 are sent (2 messages of 4096)"));
        Assert.That(result.Parts, Is.EqualTo(2));
        Assert.That(_graph.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Without_an_access_token_the_text_goes_to_an_owner_only_outbox_and_nothing_is_sent()
    {
        var time = new FixedTime(new DateTimeOffset(2025, 6, 1, 12, 30, 0, TimeSpan.Zero));
        using var sender = Sender(token: null, time: time);
        var text = "line one\nline \"two\" " + new string('z', 5000);

        var first = await sender.SendTextAsync(Admin, text, "uid 1000");
        await sender.SendTextAsync(Admin, "again", "uid 1000");

        Assert.That(sender.Mode, Is.EqualTo("outbox (no access token)"));
        Assert.That(sender.SendsToGraph, Is.False);
        Assert.That(first.Outcome, Is.EqualTo("outbox"));
        Assert.That(first.Parts, Is.EqualTo(2));
        Assert.That(first.MessageIds, Is.Empty);
        Assert.That(first.Outbox, Is.EqualTo(_dir.File("whatsapp-outbox.jsonl")));
        Assert.That(_graph.Requests, Is.Empty);
        Assert.That(_recorded, Is.Empty, "nothing was accepted by WhatsApp");
        Assert.That(File.GetUnixFileMode(first.Outbox!), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var lines = File.ReadAllLines(first.Outbox!);
        Assert.That(lines, Has.Length.EqualTo(2));
        using var line = JsonDocument.Parse(lines[0]);
        var root = line.RootElement;
        Assert.That(root.GetProperty("time").GetDateTimeOffset(), Is.EqualTo(time.GetUtcNow()));
        Assert.That(root.GetProperty("to").GetString(), Is.EqualTo(Admin));
        Assert.That(root.GetProperty("text").GetString(), Is.EqualTo(text));
        Assert.That(root.GetProperty("parts").GetInt32(), Is.EqualTo(2));
        Assert.That(root.GetProperty("sent").GetBoolean(), Is.False);
        Assert.That(root.GetProperty("reason").GetString(), Is.EqualTo("no access token: the credential whatsapp-access-token is missing"));
        Assert.That(JsonDocument.Parse(lines[1]).RootElement.GetProperty("text").GetString(), Is.EqualTo("again"));
        var warning = _log.Lines.First();
        Assert.That(warning.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(warning.Text, Does.StartWith("NOT SENT (development outbox): WhatsApp message to 4915112345678 from uid 1000, 2 part(s), written to "));
        Assert.That(_log.All, Does.Not.Contain("line one"));
    }

    [Test]
    public async Task Without_a_phone_number_id_the_text_goes_to_the_outbox_even_with_a_token()
    {
        using var sender = Sender(options: Options() with { PhoneNumberId = "" });

        var result = await sender.SendTextAsync(Admin, "hi", "uid 1000");

        Assert.That(sender.Mode, Is.EqualTo("outbox (no phone_number_id)"));
        Assert.That(result.Outcome, Is.EqualTo("outbox"));
        Assert.That(_graph.Requests, Is.Empty);
        Assert.That(File.ReadAllText(result.Outbox!), Does.Contain("\"reason\":\"[whatsapp] phone_number_id is empty in the config\""));
    }

    [Test]
    public async Task An_outbox_others_could_read_is_made_owner_only_before_a_message_goes_in()
    {
        var path = _dir.File("whatsapp-outbox.jsonl");
        await File.WriteAllTextAsync(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var sender = Sender(token: null);

        await sender.SendTextAsync(Admin, "private", "uid 1000");

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task When_a_later_part_fails_the_error_says_which_parts_went_out_and_the_rest_are_not_tried()
    {
        _graph.Then(Reply.Accepted("wamid.first")).Then(Reply.Error(400, 131026, "Message undeliverable"));
        using var sender = Sender();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => sender.SendTextAsync(Admin, new string('x', 10_000), "uid 1000")))!;

        Assert.That(e.Message, Does.StartWith("part 2 of 3 not sent: the WhatsApp Graph API refused the message to 4915112345678: HTTP 400, Graph error 131026"));
        Assert.That(e.Message, Does.EndWith("; part 1 was sent (wamid.first)"));
        Assert.That(e.SentIds, Is.EqualTo(new[] { "wamid.first" }));
        Assert.That(_graph.Requests, Has.Count.EqualTo(2));
        Assert.That(_recorded.Select(p => p.Id), Is.EqualTo(new[] { "wamid.first" }));
        Assert.That(_log.All, Does.Contain("failed: part 2 of 3 not sent"));
    }

    [Test]
    public async Task The_24_hour_refusal_of_a_long_text_is_the_plain_Graph_message()
    {
        _graph.Then(Reply.Error(400, 131047, "Re-engagement message"));
        using var sender = Sender();

        var e = (await Assert.ThrowsAsync<GraphApiException>(() => sender.SendTextAsync(Admin, new string('x', 10_000), "uid 1000")))!;

        Assert.That(e.Message, Does.StartWith("WhatsApp refused: more than 24 hours since 4915112345678 last wrote to the box"));
        Assert.That(_graph.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_recording_that_fails_is_logged_and_does_not_fail_a_sent_message()
    {
        using var sender = new OutboundSender(Options(), Token, n => n == Admin, _log, _ => throw new IOException("database is locked"), _delay.WaitAsync);

        var result = await sender.SendTextAsync(Admin, "hi", "uid 1000");

        Assert.That(result.MessageIds, Is.EqualTo(new[] { "wamid.1" }));
        Assert.That(_log.All, Does.Contain("WhatsApp message wamid.1 to 4915112345678 was sent but could not be recorded"));
    }

    [Test]
    public void With_a_token_and_a_phone_number_id_the_mode_is_graph()
    {
        using var sender = Sender();

        Assert.That(sender.Mode, Is.EqualTo("graph"));
        Assert.That(sender.SendsToGraph, Is.True);
    }

    private OutboundOptions Options() => OutboundOptions.From(
        new BoxBot.Config.WhatsAppOptions(_graph.Url, "v23.0", "1234567890"), _dir.File("whatsapp-outbox.jsonl"));

    private OutboundSender Sender(OutboundOptions? options = null, string? token = Token, Func<string, bool>? allowed = null, TimeProvider? time = null) =>
        new(options ?? Options(), token, allowed ?? (n => n == Admin), _log, _recorded.Enqueue, _delay.WaitAsync, time);

    private static string Body(string json) => JsonDocument.Parse(json).RootElement.GetProperty("text").GetProperty("body").GetString()!;

    private static string To(string json) => JsonDocument.Parse(json).RootElement.GetProperty("to").GetString()!;

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
