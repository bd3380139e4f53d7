using BoxBot.Agent.Storage;
using BoxBot.Agent.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using TaskScheduler = BoxBot.Agent.Tasks.TaskScheduler;

namespace BoxBot.Agent.Tests.Tasks;

/// <summary>
/// Firing due tasks: driven step by step through <see cref="TaskScheduler.RunDueAsync"/> with a clock the test moves,
/// across a "restart" (a new database connection, store and scheduler over the same file), and the loop itself.
/// </summary>
public class TaskSchedulerTests
{
    private const string Alice = "whatsapp:4915100000001";

    private MemoryFolder _dir = null!;
    private AgentDatabase _db = null!;
    private ManualClock _clock = null!;
    private TaskStore _store = null!;
    private List<TaskItem> _fired = null!;
    private TaskScheduler _scheduler = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new MemoryFolder();
        _db = AgentDatabase.Open(_dir.Path);
        _clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        _store = new TaskStore(_db, _clock);
        _fired = [];
        _scheduler = Scheduler(_store, _clock);
    }

    [TearDown]
    public void TearDown()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private TaskScheduler Scheduler(TaskStore store, TimeProvider time, Func<TaskItem, CancellationToken, Task>? fire = null) =>
        new(store, time, fire ?? ((task, _) =>
        {
            lock (_fired)
            {
                _fired.Add(task);
            }
            return Task.CompletedTask;
        }), NullLogger.Instance);

    private int RunDue() => _scheduler.RunDueAsync(_clock.Now, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>The box is switched off and on again: a new connection, store and scheduler over the same database file.</summary>
    private void Restart(Func<TaskItem, CancellationToken, Task>? fire = null)
    {
        _db.Dispose();
        _db = AgentDatabase.Open(_dir.Path);
        _store = new TaskStore(_db, _clock);
        _scheduler = Scheduler(_store, _clock, fire);
    }

    [Test]
    public void A_task_fires_exactly_when_the_clock_passes_it_and_once()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "tea is ready", "at 2026-11-23 12:30");

        _clock.Now = new DateTimeOffset(2026, 11, 23, 12, 29, 59, TimeSpan.Zero);
        Assert.That(RunDue(), Is.EqualTo(0));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.That(RunDue(), Is.EqualTo(1));
        Assert.That(RunDue(), Is.EqualTo(0));
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.That(RunDue(), Is.EqualTo(0));

        Assert.That(_fired.Select(t => (t.Id, t.Text, t.Owner)), Is.EqualTo(new[] { (task.Id, "tea is ready", Alice) }));
        Assert.That(_store.Get(Alice, task.Id)!.State, Is.EqualTo("done"));
    }

    [Test]
    public void A_recurring_task_fires_at_each_slot()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "stretch", "every 15 minutes");
        var runs = 0;
        for (var minute = 1; minute <= 60; minute++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            runs += RunDue();
        }

        Assert.That(runs, Is.EqualTo(4));
        Assert.That(_store.Get(Alice, task.Id)!.NextRun, Is.EqualTo(_clock.Now.AddMinutes(15).ToUnixTimeSeconds()));
    }

    [Test]
    public void Due_tasks_fire_earliest_first()
    {
        var late = _store.Add(Alice, TaskKind.Reminder, "late", "in 20 minutes");
        var early = _store.Add(Alice, TaskKind.Reminder, "early", "in 10 minutes");
        _clock.Advance(TimeSpan.FromHours(1));

        Assert.That(RunDue(), Is.EqualTo(2));
        Assert.That(_fired.Select(t => t.Id), Is.EqualTo(new[] { early.Id, late.Id }));
    }

    [Test]
    public void A_missed_daily_run_fires_once_after_a_restart_and_then_at_the_next_future_slot()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "pills", "daily 08:00");

        // Off from Monday noon until Thursday 09:30: three 08:00 runs passed.
        _db.Dispose();
        _clock.Now = new DateTimeOffset(2026, 11, 26, 9, 30, 0, TimeSpan.Zero);
        Restart();

        Assert.That(RunDue(), Is.EqualTo(1));
        Assert.That(RunDue(), Is.EqualTo(0));
        Assert.That(_store.Get(Alice, task.Id)!.NextRun, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds()));
        Assert.That(_store.Get(Alice, task.Id)!.LastRun, Is.EqualTo(_clock.Now.ToUnixTimeSeconds()));
    }

    [Test]
    public void A_crash_while_firing_fires_the_task_again_after_the_restart()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "call back", "in 5 minutes");
        _clock.Advance(TimeSpan.FromMinutes(5));
        using var shutdown = new CancellationTokenSource();
        var crashing = Scheduler(_store, _clock, async (_, ct) =>
        {
            await shutdown.CancelAsync();
            ct.ThrowIfCancellationRequested();
        });

        Assert.That(() => crashing.RunDueAsync(_clock.Now, shutdown.Token).GetAwaiter().GetResult(), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_store.Get(Alice, task.Id)!.State, Is.EqualTo("active"), "not marked: fire did not return");

        _clock.Advance(TimeSpan.FromMinutes(2));
        Restart();
        Assert.That(RunDue(), Is.EqualTo(1));
        Assert.That(_fired.Single().Id, Is.EqualTo(task.Id));
        Assert.That(_store.Get(Alice, task.Id)!.State, Is.EqualTo("done"));
    }

    [Test]
    public void A_fire_that_fails_counts_as_fired_and_the_rest_still_fire()
    {
        var failing = _store.Add(Alice, TaskKind.Reminder, "fails", "in 5 minutes");
        var fine = _store.Add(Alice, TaskKind.Reminder, "fine", "in 6 minutes");
        _clock.Advance(TimeSpan.FromMinutes(10));
        var attempts = new List<long>();
        var scheduler = Scheduler(_store, _clock, (task, _) =>
        {
            attempts.Add(task.Id);
            return task.Id == failing.Id ? throw new InvalidOperationException("the engine is broken") : Task.CompletedTask;
        });

        Assert.That(scheduler.RunDueAsync(_clock.Now, CancellationToken.None).GetAwaiter().GetResult(), Is.EqualTo(2));
        Assert.That(scheduler.RunDueAsync(_clock.Now, CancellationToken.None).GetAwaiter().GetResult(), Is.EqualTo(0));
        Assert.That(attempts, Is.EqualTo(new[] { failing.Id, fine.Id }));
        Assert.That(_store.Get(Alice, failing.Id)!.State, Is.EqualTo("done"));
    }

    [Test]
    public void A_task_cancelled_while_another_fires_does_not_fire()
    {
        var first = _store.Add(Alice, TaskKind.Reminder, "first", "in 5 minutes");
        var second = _store.Add(Alice, TaskKind.Reminder, "second", "in 6 minutes");
        _clock.Advance(TimeSpan.FromMinutes(10));
        var fired = new List<long>();
        var scheduler = Scheduler(_store, _clock, (task, _) =>
        {
            fired.Add(task.Id);
            if (task.Id == first.Id)
            {
                _store.Cancel(Alice, second.Id);
            }
            return Task.CompletedTask;
        });

        Assert.That(scheduler.RunDueAsync(_clock.Now, CancellationToken.None).GetAwaiter().GetResult(), Is.EqualTo(1));

        Assert.That(fired, Is.EqualTo(new[] { first.Id }));
        Assert.That(_store.Get(Alice, second.Id)!.State, Is.EqualTo("cancelled"));
    }

    [Test]
    public void A_pass_ahead_of_the_clock_fires_each_task_once_and_ends()
    {
        var task = _store.Add(Alice, TaskKind.Reminder, "stretch", "every 5 minutes");

        Assert.That(_scheduler.RunDueAsync(_clock.Now.AddHours(1), CancellationToken.None).GetAwaiter().GetResult(), Is.EqualTo(1));
        Assert.That(_store.Get(Alice, task.Id)!.NextRun, Is.EqualTo(_clock.Now.AddMinutes(65).ToUnixTimeSeconds()));
    }

    // --- the loop ---

    [Test]
    public async Task The_loop_fires_when_poked_after_the_clock_passed_a_task()
    {
        var fired = new TaskCompletionSource<TaskItem>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = Scheduler(_store, _clock, (task, _) =>
        {
            fired.TrySetResult(task);
            return Task.CompletedTask;
        });
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);

        var task = _store.Add(Alice, TaskKind.Reminder, "in ten", "in 10 minutes");
        await Task.Delay(200);
        Assert.That(fired.Task.IsCompleted, Is.False, "not due yet; the loop sleeps (a minute of real time, the clock is manual)");

        _clock.Advance(TimeSpan.FromMinutes(10));
        scheduler.Poke();

        Assert.That((await fired.Task.WaitAsync(TimeSpan.FromSeconds(10))).Id, Is.EqualTo(task.Id));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(_store.Get(Alice, task.Id)!.State, Is.EqualTo("done"));
    }

    [Test]
    public async Task A_change_in_the_store_wakes_the_loop()
    {
        var fired = new TaskCompletionSource<TaskItem>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = Scheduler(_store, _clock, (task, _) =>
        {
            fired.TrySetResult(task);
            return Task.CompletedTask;
        });
        var task = _store.Add(Alice, TaskKind.Todo, "a todo with a nudge", "in 5 minutes");
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await Task.Delay(200);

        // No Poke from the test: the loop sleeps (a minute of real time) until the store reports a change.
        _clock.Advance(TimeSpan.FromMinutes(5));
        _store.Add(Alice, TaskKind.Todo, "an unrelated todo", null);

        Assert.That((await fired.Task.WaitAsync(TimeSpan.FromSeconds(10))).Id, Is.EqualTo(task.Id));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task The_loop_wakes_by_itself_at_the_due_time()
    {
        var store = new TaskStore(_db, TimeProvider.System);
        var fired = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        var task = store.Add(Alice, TaskKind.Reminder, "soon",
            "at " + due.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        // Created after the add, so the add's poke is not what wakes it.
        var scheduler = new TaskScheduler(store, TimeProvider.System, (_, _) =>
        {
            fired.TrySetResult(DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        }, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);

        var at = await fired.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(at, Is.GreaterThanOrEqualTo(DateTimeOffset.FromUnixTimeSeconds(task.NextRun!.Value)));
        Assert.That(at, Is.LessThan(DateTimeOffset.FromUnixTimeSeconds(task.NextRun!.Value).AddSeconds(5)));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task The_loop_ends_when_cancelled_even_while_firing()
    {
        _store.Add(Alice, TaskKind.Reminder, "slow", "in 5 minutes");
        _clock.Advance(TimeSpan.FromMinutes(5));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = Scheduler(_store, _clock, async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        using var stop = new CancellationTokenSource();
        var loop = scheduler.RunAsync(stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await stop.CancelAsync();

        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(loop.IsCompletedSuccessfully, Is.True);
        Assert.That(_store.List(Alice).Single().State, Is.EqualTo("active"), "not marked: it fires again after the restart");
    }
}
