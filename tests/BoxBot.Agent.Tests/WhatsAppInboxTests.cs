using BoxBot.Agent.Identity;
using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests;

public class WhatsAppInboxTests
{
    private TempFolder _dir = null!;
    private AgentDatabase _db = null!;
    private WhatsAppLog _log = null!;
    private WhatsAppInbound _inbound = null!;
    private TestRegistry _registry = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempFolder();
        _db = AgentDatabase.Open(_dir.Path);
        _log = new WhatsAppLog(_db, new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)));
        _registry = new TestRegistry(_db, TimeProvider.System);
        _registry.Register("4915112345678");
        _registry.Register("4915100000002");
        _inbound = new WhatsAppInbound(_log, _registry.Registry, NullLogger.Instance);
    }

    [TearDown]
    public void TearDown()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private static WhatsAppEvent Message(string id, string from = "4915112345678", string text = "hello") => new()
    {
        Key = id,
        Kind = WhatsAppEvent.MessageKind,
        Id = id,
        From = from,
        Name = "Ana",
        Type = "text",
        Text = text,
        PhoneNumberId = "106540352242922",
        Timestamp = 1_700_000_000,
    };

    private static WhatsAppEvent Receipt(string id, string status, int? error = null) => new()
    {
        Key = $"status:{id}:{status}",
        Kind = WhatsAppEvent.StatusKind,
        Id = id,
        From = "4915112345678",
        Status = status,
        Timestamp = 1_700_000_100,
        ErrorCode = error,
    };

    private WhatsAppInboundAck Receive(params WhatsAppEvent[] events) => _inbound.Receive(new WhatsAppInboundBatch { Events = events });

    [Test]
    public void A_message_delivered_twice_is_recorded_once_and_acknowledged_both_times()
    {
        Assert.That(Receive(Message("wamid.1")).Acked, Is.EqualTo(new[] { "wamid.1" }));
        Assert.That(Receive(Message("wamid.1", text: "changed on the way")).Acked, Is.EqualTo(new[] { "wamid.1" }));

        Assert.That(_log.InboxCount, Is.EqualTo(1));
        Assert.That(_log.Inbox().Single(), Is.EqualTo(Message("wamid.1")));
    }

    [Test]
    public void Messages_from_unregistered_and_blocked_senders_are_acknowledged_but_never_reach_the_inbox()
    {
        for (var i = 0; i < UserRegistry.FailuresToBlock; i++)
        {
            _registry.Send("4477009000001", "000000");
        }
        var batch = new[]
        {
            Message("wamid.stranger", from: "4477009000002", text: "hi, it's your bank"),
            Message("wamid.guess", from: "4477009000003", text: "123456"),
            Message("wamid.blocked", from: "4477009000001", text: "hello?"),
            Message("wamid.user", text: "dinner at 8"),
        };

        Assert.That(Receive(batch).Acked, Is.EqualTo(batch.Select(e => e.Key)));

        Assert.That(_log.Inbox().Select(e => e.Id), Is.EqualTo(new[] { "wamid.user" }));
    }

    [Test]
    public void The_inbox_survives_reopening_the_database()
    {
        Receive(Message("wamid.1"), Message("wamid.2", from: "4915100000002"));
        _db.Dispose();

        _db = AgentDatabase.Open(_dir.Path);
        var log = new WhatsAppLog(_db, TimeProvider.System);

        Assert.That(log.Inbox().Select(e => e.Id), Is.EqualTo(new[] { "wamid.1", "wamid.2" }));
        Assert.That(log.Inbox("4915100000002").Select(e => e.Id), Is.EqualTo(new[] { "wamid.2" }));
        Assert.That(File.GetUnixFileMode(Path.Combine(_dir.Path, AgentDatabase.FileName)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Malformed_events_are_acknowledged_and_dropped_so_they_cannot_block_the_rest()
    {
        var ack = Receive(
            Message("wamid.ok1"),
            Message("wamid.badphone", from: "+49 151"),
            Message("wamid.nosender") with { From = null },
            Message("wamid.keymismatch") with { Key = "other" },
            Receipt("wamid.x", "seen"),
            Receipt("wamid.y", "read") with { Key = "status:wamid.z:read" },
            Message("wamid.kind") with { Kind = "reaction" },
            Message("wamid.ok2"));

        Assert.That(ack.Acked, Is.EqualTo(new[] { "wamid.ok1", "wamid.badphone", "wamid.nosender", "other", "status:wamid.x:seen", "status:wamid.z:read", "wamid.kind", "wamid.ok2" }));
        Assert.That(_log.Inbox().Select(e => e.Id), Is.EqualTo(new[] { "wamid.ok1", "wamid.ok2" }));
    }

    [Test]
    public void An_event_without_a_usable_key_is_not_acknowledged()
    {
        var ack = Receive(Message("wamid.1") with { Key = "" }, Message("k") with { Key = new string('k', 300) }, Message("wamid.2"));

        Assert.That(ack.Acked, Is.EqualTo(new[] { "wamid.2" }));
    }

    [Test]
    public void Receipts_move_an_outbound_message_forward_only_and_failed_wins()
    {
        _log.RecordOutbound("wamid.out1", "4915112345678", "hi", 1);
        _log.RecordOutbound("wamid.out2", "4915112345678", "hi", 1);
        Assert.That(_log.OutboundStatus("wamid.out1"), Is.EqualTo("accepted"));

        Receive(Receipt("wamid.out1", "read"), Receipt("wamid.out1", "delivered"), Receipt("wamid.out1", "sent"));
        Assert.That(_log.OutboundStatus("wamid.out1"), Is.EqualTo("read"), "a late 'delivered' does not undo 'read'");

        Receive(Receipt("wamid.out2", "sent"), Receipt("wamid.out2", "failed", 131047), Receipt("wamid.out2", "delivered"));
        Assert.That(_log.OutboundStatus("wamid.out2"), Is.EqualTo("failed"));

        Assert.That(_log.OutboundStatus("wamid.unknown"), Is.Null);
        Assert.That(Receive(Receipt("wamid.unknown", "read")).Acked, Has.Count.EqualTo(1), "a receipt for a message this box does not know is recorded, not refused");
    }
}
