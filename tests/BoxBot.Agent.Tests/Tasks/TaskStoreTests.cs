using BoxBot.Agent.Storage;
using BoxBot.Agent.Tasks;

namespace BoxBot.Agent.Tests.Tasks;

/// <summary>The task store's rules against real SQLite and a clock the test moves. 2026-11-23 is a Monday.</summary>
public class TaskStoreTests
{
    private const string Alice = "whatsapp:4915100000001";
    private const string Bob = "whatsapp:4915100000002";

    private MemoryFolder _dir = null!;
    private AgentDatabase _db = null!;
    private ManualClock _clock = null!;
    private TaskStore _store = null!;
    private int _changes;

    [SetUp]
    public void SetUp()
    {
        _dir = new MemoryFolder();
        _db = AgentDatabase.Open(_dir.Path);
        _clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        _store = new TaskStore(_db, _clock);
        _changes = 0;
        _store.Changed += () => _changes++;
    }

    [TearDown]
    public void TearDown()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private long At(int day, int hour, int minute = 0) => new DateTimeOffset(2026, 11, day, hour, minute, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    private long Now => _clock.Now.ToUnixTimeSeconds();

    // --- add ---

    [Test]
    public void A_reminder_is_added_with_its_first_run()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "  Call the dentist\r\n", "in 20 minutes");

        Assert.That(task, Is.EqualTo(new TaskItem(task.Id, Alice, "reminder", "Call the dentist", "at 2026-11-23T12:20:00Z", At(23, 12, 20), "active", Now, Now, null)));
        Assert.That(_store.Get(Alice, task.Id), Is.EqualTo(task));
        Assert.That(_changes, Is.EqualTo(1));
    }

    [Test]
    public void A_todo_needs_no_time_but_a_reminder_does()
    {
        var todo = _store.Add(Alice, TaskKind.Todo, "Buy milk", null);
        Assert.That((todo.Schedule, todo.NextRun), Is.EqualTo(((string?)null, (long?)null)));

        var refused = Assert.Throws<TaskException>(() => _store.Add(Alice, TaskKind.Reminder, "Call mum", " "))!;
        Assert.That(refused.Message, Does.StartWith("a reminder needs a schedule: a schedule is one of"));
        Assert.That(() => _store.Add(Alice, "chore", "x", null), Throws.TypeOf<TaskException>().With.Message.EqualTo("unknown kind \"chore\" (reminder or todo)"));
    }

    [Test]
    public void A_moment_in_the_past_is_refused_and_says_what_time_it_is()
    {
        var store = new TaskStore(_db, _clock, TimeSpan.FromHours(1));
        var refused = Assert.Throws<TaskException>(() => store.Add(Alice, TaskKind.Reminder, "x", "at 2026-11-23 13:00"))!;

        Assert.That(refused.Message, Is.EqualTo("at Mon 2026-11-23 13:00 is not in the future (it is Mon 2026-11-23 13:00 UTC+01:00 now)"));
        Assert.That(store.Add(Alice, TaskKind.Reminder, "x", "at 2026-11-23 13:01").NextRun, Is.EqualTo(At(23, 12, 1)));
    }

    [TestCase("")]
    [TestCase("ring\u0007")]
    public void Bad_text_is_refused(string text) =>
        Assert.That(() => _store.Add(Alice, TaskKind.Todo, text, null), Throws.TypeOf<TaskException>());

    [Test]
    public void Text_is_at_most_1000_characters_and_a_schedule_100()
    {
        Assert.That(_store.Add(Alice, TaskKind.Todo, new string('a', 1000), null).Text, Has.Length.EqualTo(1000));
        Assert.That(() => _store.Add(Alice, TaskKind.Todo, new string('a', 1001), null),
            Throws.TypeOf<TaskException>().With.Message.EqualTo("the text is 1001 characters; at most 1000"));
        Assert.That(() => _store.Add(Alice, TaskKind.Todo, "x", "daily 08:00" + new string(' ', 100)),
            Throws.TypeOf<TaskException>().With.Message.StartsWith("a schedule is at most 100 characters"));
    }

    [TestCase("task:5")]
    [TestCase("")]
    [TestCase("whatsapp:")]
    [TestCase("whatsapp:4915100000001 ")]
    [TestCase("sms:4915100000001")]
    public void Tasks_belong_to_people(string owner)
    {
        Assert.That(() => _store.Add(owner, TaskKind.Todo, "x", null),
            Throws.TypeOf<TaskException>().With.Message.EqualTo("tasks belong to people: a WhatsApp or console conversation, not a task's own"));
        Assert.That(() => _store.List(owner), Throws.TypeOf<TaskException>());
    }

    [Test]
    public void At_most_100_active_tasks_each_and_closed_ones_do_not_count()
    {
        var tasks = Enumerable.Range(0, 100).Select(i => _store.Add(Alice, TaskKind.Todo, $"todo {i}", null)).ToList();

        var refused = Assert.Throws<TaskException>(() => _store.Add(Alice, TaskKind.Reminder, "one more", "in 1 hour"))!;
        Assert.That(refused.Message, Is.EqualTo("you have 100 open tasks, the most there may be: complete or cancel some first"));
        Assert.That(_store.Add(Bob, TaskKind.Todo, "Bob has his own 100", null).Owner, Is.EqualTo(Bob));

        _store.Complete(Alice, tasks[0].Id);
        _store.Cancel(Alice, tasks[1].Id);
        _store.Add(Alice, TaskKind.Todo, "now there is room", null);
        _store.Add(Alice, TaskKind.Todo, "and for one more", null);
        Assert.That(() => _store.Add(Alice, TaskKind.Todo, "but not two", null), Throws.TypeOf<TaskException>());
    }

    // --- list ---

    [Test]
    public void A_list_shows_the_next_to_fire_first_those_without_time_last_and_closed_ones_only_when_asked()
    {
        var later = _store.Add(Alice, TaskKind.Reminder, "later", "in 3 hours");
        var todo = _store.Add(Alice, TaskKind.Todo, "no time", null);
        var sooner = _store.Add(Alice, TaskKind.Reminder, "sooner", "in 1 hour");
        var done = _store.Add(Alice, TaskKind.Todo, "done", null);
        var cancelled = _store.Add(Alice, TaskKind.Todo, "cancelled", null);
        _store.Add(Bob, TaskKind.Todo, "Bob's", null);
        _store.Complete(Alice, done.Id);
        _clock.Advance(TimeSpan.FromMinutes(1));
        _store.Cancel(Alice, cancelled.Id);

        Assert.That(_store.List(Alice).Select(t => t.Id), Is.EqualTo(new[] { sooner.Id, later.Id, todo.Id }));
        Assert.That(_store.List(Alice, includeDone: true).Select(t => (t.Id, t.State)), Is.EqualTo(new[]
        {
            (sooner.Id, "active"), (later.Id, "active"), (todo.Id, "active"), (cancelled.Id, "cancelled"), (done.Id, "done"),
        }));
    }

    // --- complete, cancel, update: only the owner's own ---

    [Test]
    public void Another_persons_tasks_cannot_be_seen_or_touched()
    {
        var bobs = _store.Add(Bob, TaskKind.Reminder, "Bob's secret appointment", "in 2 hours");

        Assert.That(_store.List(Alice, includeDone: true), Is.Empty);
        Assert.That(_store.Get(Alice, bobs.Id), Is.Null);
        foreach (var attempt in new Action[]
        {
            () => _store.Complete(Alice, bobs.Id),
            () => _store.Cancel(Alice, bobs.Id),
            () => _store.Update(Alice, bobs.Id, "mine now", null),
            () => _store.Update(Alice, bobs.Id, null, "in 1 minute"),
        })
        {
            Assert.That(() => attempt(), Throws.TypeOf<TaskException>().With.Message.EqualTo($"you have no open task #{bobs.Id}"));
        }
        Assert.That(_store.Get(Bob, bobs.Id), Is.EqualTo(bobs));
        Assert.That(() => _store.Complete(Alice, 999), Throws.TypeOf<TaskException>().With.Message.EqualTo("you have no open task #999"),
            "the same words as for no task at all");
    }

    [Test]
    public void Complete_and_cancel_close_a_task_once()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "x", "daily 09:00");
        _clock.Advance(TimeSpan.FromMinutes(5));

        var done = _store.Complete(Alice, task.Id);

        Assert.That((done.State, done.NextRun, done.UpdatedAt), Is.EqualTo(("done", (long?)null, Now)));
        Assert.That(() => _store.Complete(Alice, task.Id), Throws.TypeOf<TaskException>());
        Assert.That(() => _store.Cancel(Alice, task.Id), Throws.TypeOf<TaskException>());
        Assert.That(() => _store.Update(Alice, task.Id, "again", null), Throws.TypeOf<TaskException>());
        Assert.That(_store.Due(_clock.Now.AddDays(3)), Is.Empty);
        Assert.That(_changes, Is.EqualTo(2));
    }

    [Test]
    public void Update_changes_text_and_schedule_and_a_new_schedule_starts_from_now()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "Water the plants", "every 2 hours");
        _clock.Advance(TimeSpan.FromMinutes(30));

        var renamed = _store.Update(Alice, task.Id, "Water the tomatoes", null);
        Assert.That((renamed.Text, renamed.Schedule, renamed.NextRun, renamed.UpdatedAt), Is.EqualTo(("Water the tomatoes", "every 2 hours", At(23, 14), Now)));

        var moved = _store.Update(Alice, task.Id, null, "every 30 minutes");
        Assert.That((moved.Text, moved.Schedule, moved.NextRun), Is.EqualTo(("Water the tomatoes", "every 30 minutes", At(23, 13))));

        Assert.That(() => _store.Update(Alice, task.Id, null, "none"), Throws.TypeOf<TaskException>().With.Message.StartsWith("a reminder needs a schedule"));
        Assert.That(() => _store.Update(Alice, task.Id, "x", "every minute"), Throws.TypeOf<TaskException>());
        Assert.That(_store.Get(Alice, task.Id)!.Text, Is.EqualTo("Water the tomatoes"), "a refused update changes nothing");
        Assert.That(() => _store.Update(Alice, task.Id, null, null), Throws.TypeOf<TaskException>().With.Message.StartsWith("nothing to change"));
    }

    [Test]
    public void A_todos_time_can_be_set_and_taken_away()
    {
        var todo = _store.Add(Alice, TaskKind.Todo, "Fix the bike", null);

        Assert.That(_store.Update(Alice, todo.Id, null, "weekly sat 10:00").NextRun, Is.EqualTo(At(28, 10)));
        var cleared = _store.Update(Alice, todo.Id, null, " None ");
        Assert.That((cleared.Schedule, cleared.NextRun), Is.EqualTo(((string?)null, (long?)null)));
    }

    // --- due and fired ---

    [Test]
    public void Due_is_every_active_task_whose_time_has_come_earliest_first()
    {
        var second = _store.Add(Alice, TaskKind.Reminder, "second", "at 2026-11-23 12:10");
        var first = _store.Add(Bob, TaskKind.Reminder, "first", "at 2026-11-23 12:05");
        _store.Add(Alice, TaskKind.Reminder, "not yet", "at 2026-11-23 12:11");
        _store.Add(Alice, TaskKind.Todo, "never", null);
        var cancelled = _store.Add(Alice, TaskKind.Reminder, "cancelled", "at 2026-11-23 12:01");
        _store.Cancel(Alice, cancelled.Id);

        Assert.That(_store.Due(_clock.Now.AddMinutes(9).AddSeconds(59)).Select(t => t.Id), Is.EqualTo(new[] { first.Id }));
        Assert.That(_store.Due(_clock.Now.AddMinutes(10)).Select(t => t.Id), Is.EqualTo(new[] { first.Id, second.Id }));
        Assert.That(_store.NextDue(), Is.EqualTo(_clock.Now.AddMinutes(5)));
    }

    [Test]
    public void A_fired_one_off_reminder_is_done_and_a_fired_one_off_todo_stays_open_without_a_time()
    {
        var reminder = _store.Add(Alice, TaskKind.Reminder, "r", "in 10 minutes");
        var todo = _store.Add(Alice, TaskKind.Todo, "t", "in 10 minutes");
        _clock.Advance(TimeSpan.FromMinutes(11));
        var changes = _changes;

        var r = _store.MarkFired(reminder.Id, _clock.Now)!;
        var t = _store.MarkFired(todo.Id, _clock.Now)!;

        Assert.That((r.State, r.NextRun, r.LastRun), Is.EqualTo(("done", (long?)null, (long?)Now)));
        Assert.That((t.State, t.NextRun, t.LastRun, t.Schedule), Is.EqualTo(("active", (long?)null, (long?)Now, "at 2026-11-23T12:10:00Z")));
        Assert.That(_store.Due(_clock.Now.AddDays(1)), Is.Empty);
        Assert.That(_store.NextDue(), Is.Null);
        Assert.That(_changes, Is.EqualTo(changes), "the scheduler's own marks do not poke it");
    }

    [Test]
    public void A_fired_daily_task_moves_to_tomorrow_and_runs_missed_while_off_are_skipped()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "pills", "daily 08:00");
        Assert.That(task.NextRun, Is.EqualTo(At(24, 8)));

        _clock.Now = new DateTimeOffset(2026, 11, 24, 8, 0, 2, TimeSpan.Zero);
        Assert.That(_store.MarkFired(task.Id, _clock.Now)!.NextRun, Is.EqualTo(At(25, 8)));

        // Off from the 24th to the 28th at noon: one run now, then the 29th.
        _clock.Now = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
        Assert.That(_store.Due(_clock.Now).Select(t => t.Id), Is.EqualTo(new[] { task.Id }));
        var fired = _store.MarkFired(task.Id, _clock.Now)!;
        Assert.That((fired.NextRun, fired.LastRun, fired.State), Is.EqualTo((At(29, 8), (long?)Now, "active")));
        Assert.That(_store.Due(_clock.Now), Is.Empty);
    }

    [Test]
    public void Times_of_day_are_in_the_boxs_zone()
    {
        var store = new TaskStore(_db, _clock, TimeSpan.FromHours(1));
        var task = store.Add(Alice, TaskKind.Reminder, "pills", "daily 08:00");

        Assert.That(task.NextRun, Is.EqualTo(At(24, 7)));
        _clock.Now = DateTimeOffset.FromUnixTimeSeconds(At(24, 7));
        Assert.That(store.MarkFired(task.Id, _clock.Now)!.NextRun, Is.EqualTo(At(25, 7)));
    }

    [Test]
    public void Marking_a_task_closed_meanwhile_changes_nothing()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "x", "daily 08:00");
        _store.Cancel(Alice, task.Id);

        Assert.That(_store.MarkFired(task.Id, _clock.Now.AddDays(1)), Is.Null);
        Assert.That(_store.Get(Alice, task.Id)!.State, Is.EqualTo("cancelled"));
    }

    [TestCase(15 * 60)]
    [TestCase(-15 * 60)]
    [TestCase(30.5)]
    public void The_zone_is_whole_minutes_within_14_hours(double minutes) =>
        Assert.That(() => new TaskStore(_db, _clock, TimeSpan.FromMinutes(minutes)), Throws.TypeOf<ArgumentOutOfRangeException>());
}
