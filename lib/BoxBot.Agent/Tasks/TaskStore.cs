using System.Globalization;
using System.Text.RegularExpressions;
using BoxBot.Agent.Storage;
using Microsoft.Data.Sqlite;
using static BoxBot.Agent.Storage.Sql;

namespace BoxBot.Agent.Tasks;

/// <summary>A task's kinds.</summary>
public static class TaskKind
{
    /// <summary>Something to be told at a time: needs a schedule; a one-off is done once it fired.</summary>
    public const string Reminder = "reminder";

    /// <summary>Something to do: a schedule is optional (a nudge); it stays open until completed or cancelled.</summary>
    public const string Todo = "todo";

    public static readonly IReadOnlyList<string> All = [Reminder, Todo];
}

/// <summary>A task's states.</summary>
public static class TaskState
{
    public const string Active = "active";
    public const string Done = "done";
    public const string Cancelled = "cancelled";
}

/// <summary>One task. Times are Unix seconds.</summary>
/// <param name="Owner">The conversation key of the person it belongs to.</param>
/// <param name="Schedule">The canonical schedule (<see cref="TaskSchedule.Text"/>), or null for a to-do without a time.</param>
/// <param name="NextRun">When it fires next; null when it will not (no schedule, a fired one-off to-do, closed).</param>
/// <param name="LastRun">When it last fired.</param>
public sealed record TaskItem(
    long Id, string Owner, string Kind, string Text, string? Schedule, long? NextRun, string State, long CreatedAt, long UpdatedAt, long? LastRun);

/// <summary>A task call was refused; the message says why, in words fit for the model.</summary>
public sealed class TaskException(string message) : Exception(message);

/// <summary>
/// Reminders and to-dos in the agent's database, each owned by one person (a conversation key). Every call that names a
/// task names its owner too, and a task of someone else is reported exactly like one that does not exist: a person
/// reaches only their own tasks. State is in SQLite, so tasks and their next runs survive restarts; <see cref="TaskScheduler"/>
/// fires what is due. Times of day are in the box's zone: UTC plus <see cref="UtcOffset"/> (see <see cref="TaskSchedule"/>).
/// </summary>
public sealed partial class TaskStore
{
    public const int MaxActivePerOwner = 100;
    public const int MaxTextLength = 1000;

    /// <summary>How many closed (done or cancelled) tasks a listing shows at most, newest first.</summary>
    public const int MaxClosedListed = 50;

    private const string Columns = "id, owner, kind, text, schedule, next_run, state, created_at, updated_at, last_run";

    private readonly AgentDatabase _database;
    private readonly TimeProvider _time;

    /// <param name="utcOffset">The box's zone as a fixed offset from UTC (whole minutes, at most 14 hours either way).</param>
    public TaskStore(AgentDatabase database, TimeProvider time, TimeSpan utcOffset = default)
    {
        if (utcOffset.Duration() > TimeSpan.FromHours(14) || utcOffset.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(utcOffset), utcOffset, "a UTC offset is whole minutes within 14 hours");
        }
        _database = database;
        _time = time;
        UtcOffset = utcOffset;
    }

    /// <summary>The box's zone: times of day and dates without an offset are read and shown in it.</summary>
    public TimeSpan UtcOffset { get; }

    /// <summary>Raised after a change that may move the next due time (add, update, complete, cancel): the scheduler wakes.</summary>
    public event Action? Changed;

    /// <summary>Adds a task for <paramref name="owner"/>.</summary>
    /// <param name="schedule">Any form <see cref="TaskSchedule.Parse"/> reads; required for a reminder, optional for a to-do.</param>
    /// <exception cref="TaskException">A rule refuses it: kind, text, schedule, or the owner's limit of active tasks.</exception>
    public TaskItem Add(string owner, string kind, string text, string? schedule)
    {
        CheckOwner(owner);
        if (!TaskKind.All.Contains(kind))
        {
            throw new TaskException($"unknown kind \"{kind}\" (reminder or todo)");
        }
        var clean = CleanText(text);
        var now = _time.GetUtcNow();
        var (canonical, next) = ScheduleFor(kind, schedule, now);
        var item = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            var active = (long)Scalar(c, "SELECT count(*) FROM tasks WHERE owner = $a AND state = 'active'", owner)!;
            if (active >= MaxActivePerOwner)
            {
                throw new TaskException($"you have {MaxActivePerOwner} open tasks, the most there may be: complete or cancel some first");
            }
            var id = (long)Scalar(c, """
                INSERT INTO tasks(owner, kind, text, schedule, next_run, created_at, updated_at) VALUES ($a, $b, $c, $d, $e, $f, $f) RETURNING id
                """, owner, kind, clean, canonical, next, now.ToUnixTimeSeconds())!;
            var added = Find(c, owner, id)!;
            tx.Commit();
            return added;
        });
        Changed?.Invoke();
        return item;
    }

    /// <summary>
    /// <paramref name="owner"/>'s active tasks, the next to fire first and those without a time last; with
    /// <paramref name="includeDone"/> also the <see cref="MaxClosedListed"/> most recently closed ones.
    /// </summary>
    public IReadOnlyList<TaskItem> List(string owner, bool includeDone = false)
    {
        CheckOwner(owner);
        return _database.Use(c =>
        {
            var items = Read(c, $"""
                SELECT {Columns} FROM tasks WHERE owner = $a AND state = 'active' ORDER BY next_run IS NULL, next_run, id
                """, owner);
            if (includeDone)
            {
                items.AddRange(Read(c, $"""
                    SELECT {Columns} FROM tasks WHERE owner = $a AND state <> 'active' ORDER BY closed_at DESC, id DESC LIMIT $b
                    """, owner, MaxClosedListed));
            }
            return (IReadOnlyList<TaskItem>)items;
        });
    }

    /// <summary><paramref name="owner"/>'s task with this id, or null (also when it is someone else's).</summary>
    public TaskItem? Get(string owner, long id)
    {
        CheckOwner(owner);
        return _database.Use(c => Find(c, owner, id));
    }

    /// <summary>The task with this id, whoever owns it (the agent, resuming a task's conversation after a restart); never for tools.</summary>
    internal TaskItem? FindAny(long id) => _database.Use(c => Read(c, $"SELECT {Columns} FROM tasks WHERE id = $a", id).SingleOrDefault());

    /// <summary>Marks an active task done.</summary>
    /// <exception cref="TaskException">No active task of <paramref name="owner"/> has this id.</exception>
    public TaskItem Complete(string owner, long id) => Close(owner, id, TaskState.Done);

    /// <summary>Cancels an active task.</summary>
    /// <exception cref="TaskException">No active task of <paramref name="owner"/> has this id.</exception>
    public TaskItem Cancel(string owner, long id) => Close(owner, id, TaskState.Cancelled);

    /// <summary>
    /// Changes an active task's text and/or schedule. A new schedule starts from now; <c>"none"</c> takes a to-do's time
    /// away (a reminder needs one).
    /// </summary>
    /// <exception cref="TaskException">No active task of <paramref name="owner"/> has this id, or the change is refused.</exception>
    public TaskItem Update(string owner, long id, string? text, string? schedule)
    {
        if (text is null && schedule is null)
        {
            throw new TaskException("nothing to change: give a new text or schedule");
        }
        CheckOwner(owner);
        var clean = text is null ? null : CleanText(text);
        var now = _time.GetUtcNow();
        var item = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            var task = FindActive(c, owner, id);
            if (clean is not null)
            {
                Execute(c, "UPDATE tasks SET text = $b WHERE id = $a", id, clean);
            }
            if (schedule is not null)
            {
                var (canonical, next) = ScheduleFor(task.Kind, schedule.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? null : schedule, now);
                Execute(c, "UPDATE tasks SET schedule = $b, next_run = $c WHERE id = $a", id, canonical, next);
            }
            Execute(c, "UPDATE tasks SET updated_at = $b WHERE id = $a", id, now.ToUnixTimeSeconds());
            var updated = Find(c, owner, id)!;
            tx.Commit();
            return updated;
        });
        Changed?.Invoke();
        return item;
    }

    /// <summary>Active tasks whose next run is at or before <paramref name="now"/>, the earliest first (anyone's: for the scheduler).</summary>
    public IReadOnlyList<TaskItem> Due(DateTimeOffset now) => _database.Use(c => (IReadOnlyList<TaskItem>)Read(c, $"""
        SELECT {Columns} FROM tasks WHERE state = 'active' AND next_run IS NOT NULL AND next_run <= $a ORDER BY next_run, id
        """, now.ToUnixTimeSeconds()));

    /// <summary>The earliest next run of any active task, or null when nothing is scheduled.</summary>
    public DateTimeOffset? NextDue() => _database.Use(c =>
        Scalar(c, "SELECT min(next_run) FROM tasks WHERE state = 'active' AND next_run IS NOT NULL") is long next
            ? DateTimeOffset.FromUnixTimeSeconds(next)
            : (DateTimeOffset?)null);

    /// <summary>
    /// Records that a due task fired at <paramref name="now"/>: a recurring one moves to its first slot after now (runs
    /// missed while the box was off are skipped, not made up), a one-off reminder is done, a one-off to-do stays open
    /// without a time. Returns the task as it is now, or null when it is no longer active (cancelled meanwhile).
    /// </summary>
    public TaskItem? MarkFired(long id, DateTimeOffset now) => _database.Use(c =>
    {
        using var tx = c.BeginTransaction();
        var task = Read(c, $"SELECT {Columns} FROM tasks WHERE id = $a AND state = 'active'", id).SingleOrDefault();
        if (task is null)
        {
            return null;
        }
        var at = now.ToUnixTimeSeconds();
        DateTimeOffset? next = null;
        if (task.Schedule is not null && task.NextRun is long previous)
        {
            // A stored schedule is canonical; one this code cannot read (written by a newer release) stops rather than loops.
            try
            {
                next = TaskSchedule.Parse(task.Schedule, now, UtcOffset).After(DateTimeOffset.FromUnixTimeSeconds(previous), now, UtcOffset);
            }
            catch (TaskException)
            {
                next = null;
            }
        }
        if (next is null && task.Kind == TaskKind.Reminder)
        {
            Execute(c, "UPDATE tasks SET state = 'done', next_run = NULL, last_run = $b, closed_at = $b, updated_at = $b WHERE id = $a", id, at);
        }
        else
        {
            Execute(c, "UPDATE tasks SET next_run = $b, last_run = $c WHERE id = $a", id, next?.ToUnixTimeSeconds(), at);
        }
        var fired = Read(c, $"SELECT {Columns} FROM tasks WHERE id = $a", id).Single();
        tx.Commit();
        return fired;
    });

    private TaskItem Close(string owner, long id, string state)
    {
        CheckOwner(owner);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var item = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            FindActive(c, owner, id);
            Execute(c, "UPDATE tasks SET state = $b, next_run = NULL, closed_at = $c, updated_at = $c WHERE id = $a", id, state, now);
            var closed = Find(c, owner, id)!;
            tx.Commit();
            return closed;
        });
        Changed?.Invoke();
        return item;
    }

    private (string? Canonical, long? Next) ScheduleFor(string kind, string? schedule, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(schedule))
        {
            return kind == TaskKind.Reminder
                ? throw new TaskException($"a reminder needs a schedule: {TaskSchedule.Forms}")
                : (null, null);
        }
        if (schedule.Length > 100)
        {
            throw new TaskException($"a schedule is at most 100 characters: {TaskSchedule.Forms}");
        }
        var parsed = TaskSchedule.Parse(schedule, now, UtcOffset);
        var first = parsed.First(now, UtcOffset) ?? throw new TaskException(
            $"{parsed.Describe(UtcOffset)} is not in the future (it is {now.ToOffset(UtcOffset).ToString("ddd yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} " +
            $"{TaskSchedule.ZoneName(UtcOffset)} now)");
        return (parsed.Text, first.ToUnixTimeSeconds());
    }

    private static TaskItem FindActive(SqliteConnection c, string owner, long id) =>
        Find(c, owner, id) is { State: TaskState.Active } task ? task : throw new TaskException($"you have no open task #{id}");

    private static TaskItem? Find(SqliteConnection c, string owner, long id) =>
        Read(c, $"SELECT {Columns} FROM tasks WHERE id = $a AND owner = $b", id, owner).SingleOrDefault();

    private static void CheckOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!OwnerPattern().IsMatch(owner))
        {
            throw new TaskException("tasks belong to people: a WhatsApp or console conversation, not a task's own");
        }
    }

    private static string CleanText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = text.ReplaceLineEndings("\n").Trim();
        if (clean.Length == 0)
        {
            throw new TaskException("the text is empty");
        }
        if (clean.Length > MaxTextLength)
        {
            throw new TaskException($"the text is {clean.Length} characters; at most {MaxTextLength}");
        }
        if (clean.Any(ch => char.IsControl(ch) && ch is not '\n' and not '\t'))
        {
            throw new TaskException("the text holds control characters");
        }
        return clean;
    }

    private static List<TaskItem> Read(SqliteConnection c, string sql, params object?[] values)
    {
        using var command = Command(c, sql, values);
        using var reader = command.ExecuteReader();
        var items = new List<TaskItem>();
        while (reader.Read())
        {
            items.Add(new TaskItem(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.GetString(6), reader.GetInt64(7), reader.GetInt64(8),
                reader.IsDBNull(9) ? null : reader.GetInt64(9)));
        }
        return items;
    }

    [GeneratedRegex("^(whatsapp:[0-9]{6,15}|console:[a-z_][a-z0-9_.-]{0,31})\\z")]
    private static partial Regex OwnerPattern();
}
