using BoxBot.Agent.Storage;
using BoxBot.Agent.Tasks;
using BoxBot.Agent.Tools;

namespace BoxBot.Agent.Tests.Tasks;

/// <summary>manage_tasks as the model calls it. 2026-11-23 is a Monday; the box is in UTC+1.</summary>
public class ManageTasksToolTests
{
    private static readonly Speaker Alice = Speakers.Person("4915100000001");
    private static readonly Speaker Bob = Speakers.Person("4915100000002");
    private static readonly Speaker Admin = Speakers.Person("4915100000009", admin: true);

    private MemoryFolder _dir = null!;
    private AgentDatabase _db = null!;
    private ManualClock _clock = null!;
    private TaskStore _store = null!;
    private ManageTasksTool _tool = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new MemoryFolder();
        _db = AgentDatabase.Open(_dir.Path);
        _clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        _store = new TaskStore(_db, _clock, TimeSpan.FromHours(1));
        _tool = new ManageTasksTool(_store);
    }

    [TearDown]
    public void TearDown()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private ToolResult Run(string json, Speaker? speaker = null) => ToolCalls.Run(_tool, json, speaker ?? Alice, _clock);

    [Test]
    public void The_schema_is_a_JSON_object_that_refuses_other_properties()
    {
        ToolCalls.AssertSchema(_tool, "action", "kind", "text", "schedule", "id", "include_done");
        Assert.That(_tool.Name, Is.EqualTo("manage_tasks"));
        Assert.That(_tool.Description, Does.Contain("(UTC+01:00)"));
    }

    [Test]
    public void Add_list_update_complete_and_cancel()
    {
        Assert.That(Run("""{"action": "add", "text": "Take the pills", "schedule": "daily 08:00"}""").Content,
            Is.EqualTo("Added #1 reminder, daily 08:00, next Tue 2026-11-24 08:00: Take the pills"));
        Assert.That(Run("""{"action": "add", "text": "Buy milk"}""").Content, Is.EqualTo("Added #2 todo: Buy milk"));
        Assert.That(Run("""{"action": "add", "kind": "todo", "text": "Call the plumber", "schedule": "in 2 hours"}""").Content,
            Is.EqualTo("Added #3 todo, at Mon 2026-11-23 15:00: Call the plumber"));
        Assert.That(Run("""{"action": "add", "text": "Bins out", "schedule": "weekly tue,fri 19:00"}""").Content,
            Is.EqualTo("Added #4 reminder, weekly tue,fri 19:00, next Tue 2026-11-24 19:00: Bins out"));

        Assert.That(Run("""{"action": "update", "id": 2, "text": "Buy oat milk", "schedule": "at 2026-11-25 10:00"}""").Content,
            Is.EqualTo("Updated #2 todo, at Wed 2026-11-25 10:00: Buy oat milk"));
        Assert.That(Run("""{"action": "complete", "id": 3}""").Content, Is.EqualTo("Completed #3 todo (done), at Mon 2026-11-23 15:00: Call the plumber"));
        Assert.That(Run("""{"action": "cancel", "id": 4}""").Content, Is.EqualTo("Cancelled #4 reminder (cancelled), weekly tue,fri 19:00: Bins out"));

        Assert.That(Run("""{"action": "list"}""").Content, Is.EqualTo(
            "2 tasks (times UTC+01:00):\n" +
            "#1 reminder, daily 08:00, next Tue 2026-11-24 08:00: Take the pills\n" +
            "#2 todo, at Wed 2026-11-25 10:00: Buy oat milk"));
        Assert.That(Run("""{"action": "list", "include_done": true}""").Content.Split('\n'), Has.Length.EqualTo(5));
        Assert.That(Run("""{"action": "list"}""", Bob).Content, Is.EqualTo("No open tasks."));
    }

    [Test]
    public void Only_the_speakers_own_tasks_admins_included()
    {
        Run("""{"action": "add", "text": "Alice's", "schedule": "in 1 hour"}""");

        foreach (var speaker in new[] { Bob, Admin })
        {
            Assert.That(Run("""{"action": "complete", "id": 1}""", speaker), Is.EqualTo(ToolResult.Error("you have no open task #1")));
            Assert.That(Run("""{"action": "cancel", "id": 1}""", speaker), Is.EqualTo(ToolResult.Error("you have no open task #1")));
            Assert.That(Run("""{"action": "update", "id": 1, "text": "mine"}""", speaker), Is.EqualTo(ToolResult.Error("you have no open task #1")));
            Assert.That(Run("""{"action": "list", "include_done": true}""", speaker).Content, Is.EqualTo("No open tasks."));
        }
        Assert.That(_store.Get(Alice.ConversationKey, 1)!.Text, Is.EqualTo("Alice's"));
        Assert.That(Run("""{"action": "list"}""", Speakers.Console("alice")).Content, Is.EqualTo("No open tasks."));
    }

    [Test]
    public void A_tasks_own_conversation_has_no_tasks()
    {
        var refused = Run("""{"action": "add", "text": "follow up", "schedule": "in 1 hour"}""", Speakers.Task(1));

        Assert.That(refused, Is.EqualTo(ToolResult.Error("tasks belong to people: a WhatsApp or console conversation, not a task's own")));
    }

    [TestCase("""{"action": "add", "text": "x", "id": 3}""", "unknown property \"id\" (known: action, kind, text, schedule)")]
    [TestCase("""{"action": "list", "text": "x"}""", "unknown property \"text\" (known: action, include_done)")]
    [TestCase("""{"action": "complete", "id": 1, "text": "x"}""", "unknown property \"text\" (known: action, id)")]
    [TestCase("""{"action": "cancel", "id": 1, "include_done": true}""", "unknown property \"include_done\" (known: action, id)")]
    [TestCase("""{"action": "update", "id": 1, "kind": "todo"}""", "unknown property \"kind\" (known: action, id, text, schedule)")]
    [TestCase("""{"action": "add", "text": "x", "owner": "whatsapp:4915100000002"}""", "unknown property \"owner\" (known: action, kind, text, schedule, id, include_done)")]
    [TestCase("""{}""", "\"action\" is required (add, list, complete, cancel or update)")]
    [TestCase("""{"action": "delete", "id": 1}""", "\"action\" must be one of add, list, complete, cancel, update, got \"delete\"")]
    [TestCase("""{"action": "add"}""", "\"text\" is required (a non-empty string)")]
    [TestCase("""{"action": "add", "text": "x", "kind": "chore"}""", "\"kind\" must be one of reminder, todo, got \"chore\"")]
    [TestCase("""{"action": "add", "text": "x", "schedule": 800}""", "\"schedule\" must be a string")]
    [TestCase("""{"action": "complete"}""", "\"id\" is required: the task's number")]
    [TestCase("""{"action": "cancel", "id": "1"}""", "\"id\" must be an integer")]
    [TestCase("""{"action": "update", "id": 0, "text": "x"}""", "\"id\" must be between 1 and 9223372036854775807, got 0")]
    [TestCase("""{"action": "update", "id": 1}""", "update needs a new \"text\" or \"schedule\"")]
    [TestCase("""{"action": "list", "include_done": "yes"}""", "\"include_done\" must be true or false")]
    public void Bad_input_is_refused_with_what_is_wrong(string json, string message) =>
        Assert.That(ToolCalls.Refusal(_tool, json, Alice, _clock), Is.EqualTo(message));

    [Test]
    public void Rules_of_the_store_come_back_as_errors_for_the_model()
    {
        var reminder = Run("""{"action": "add", "kind": "reminder", "text": "x"}""");
        Assert.That(reminder.IsError, Is.True);
        Assert.That(reminder.Content, Does.StartWith("a reminder needs a schedule"));

        var past = Run("""{"action": "add", "text": "x", "schedule": "at 2026-11-23 12:00"}""");
        Assert.That(past, Is.EqualTo(ToolResult.Error("at Mon 2026-11-23 12:00 is not in the future (it is Mon 2026-11-23 13:00 UTC+01:00 now)")));

        var often = Run("""{"action": "add", "text": "x", "schedule": "every minute"}""");
        Assert.That(often.IsError, Is.True);
        Assert.That(often.Content, Does.StartWith("\"every minute\" is not a schedule: a schedule is one of"));

        var long_ = ToolCalls.Refusal(_tool, $$"""{"action": "add", "text": "{{new string('x', 1001)}}"}""", Alice, _clock);
        Assert.That(long_, Is.EqualTo("\"text\" is 1001 characters; at most 1000"));
        Assert.That(_store.List(Alice.ConversationKey), Is.Empty);
    }
}
