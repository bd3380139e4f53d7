using System.Globalization;
using System.Text;
using BoxBot.Agent.Tools;

namespace BoxBot.Agent.Tasks;

/// <summary>
/// The model's tool for the speaker's reminders and to-dos. The owner is always the speaker's conversation key, decided
/// by the channel, never by the model: there is no way to name someone else's tasks, admins included (an admin's tool
/// for all tasks can come later, separately). Each action takes only the properties it uses.
/// </summary>
public sealed class ManageTasksTool(TaskStore store) : AgentTool
{
    public override string Name => "manage_tasks";

    public override string Description =>
        "The reminders and to-dos of the person you are talking to (only theirs). " +
        "add: text, and a schedule for a reminder (optional for a todo); kind is \"reminder\" (you will be woken at the time to tell them) " +
        "or \"todo\" (something to do; a schedule on it is a nudge), default reminder when there is a schedule, todo otherwise. " +
        "list: their open tasks (include_done: true for recently closed ones too). complete / cancel: id. " +
        "update: id, and a new text and/or schedule (\"none\" takes a todo's time away). " +
        "Schedules: \"at 2026-11-24 08:00\", \"in 20 minutes\" (or hours, days), \"daily 08:00\", \"weekly mon,thu 08:00\", " +
        $"\"every 30 minutes\" (at least 5), \"every 2 hours\". Times are in the box's zone ({TaskSchedule.ZoneName(store.UtcOffset)}) " +
        "unless an ISO time gives its own offset. At most 100 open tasks each.";

    public override string InputSchema => """
        {
          "type": "object",
          "properties": {
            "action": { "type": "string", "enum": ["add", "list", "complete", "cancel", "update"] },
            "kind": { "type": "string", "enum": ["reminder", "todo"], "description": "add only." },
            "text": { "type": "string", "maxLength": 1000, "description": "add, update: what to remind of or do." },
            "schedule": { "type": "string", "maxLength": 100, "description": "add, update: when; \"none\" in update takes a todo's time away." },
            "id": { "type": "integer", "minimum": 1, "description": "complete, cancel, update: the task." },
            "include_done": { "type": "boolean", "description": "list: also recently completed and cancelled tasks." }
          },
          "required": ["action"],
          "additionalProperties": false
        }
        """;

    public override Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        input.Only("action", "kind", "text", "schedule", "id", "include_done");
        var action = input.OptionalChoice("action", "add", "list", "complete", "cancel", "update")
            ?? throw new ToolInputException("\"action\" is required (add, list, complete, cancel or update)");
        var owner = context.Speaker.Person;
        try
        {
            return Task.FromResult(action switch
            {
                "add" => Add(input.Only("action", "kind", "text", "schedule"), owner),
                "list" => List(input.Only("action", "include_done"), owner),
                "update" => Update(input.Only("action", "id", "text", "schedule"), owner),
                _ => Close(input.Only("action", "id"), owner, action),
            });
        }
        catch (TaskException e)
        {
            return Task.FromResult(ToolResult.Error(e.Message));
        }
    }

    private ToolResult Add(ToolInput input, string owner)
    {
        var text = input.RequiredString("text", TaskStore.MaxTextLength);
        var schedule = input.OptionalString("schedule", 100);
        var kind = input.OptionalChoice("kind", [.. TaskKind.All]) ?? (string.IsNullOrWhiteSpace(schedule) ? TaskKind.Todo : TaskKind.Reminder);
        var task = store.Add(owner, kind, text, schedule);
        return new ToolResult("Added " + Line(task));
    }

    private ToolResult List(ToolInput input, string owner)
    {
        var tasks = store.List(owner, input.OptionalBool("include_done") ?? false);
        if (tasks.Count == 0)
        {
            return new ToolResult("No open tasks.");
        }
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{tasks.Count} {(tasks.Count == 1 ? "task" : "tasks")} (times {TaskSchedule.ZoneName(store.UtcOffset)}):"));
        foreach (var task in tasks)
        {
            text.Append('\n').Append(Line(task));
        }
        return new ToolResult(text.ToString());
    }

    private ToolResult Update(ToolInput input, string owner)
    {
        var id = RequiredId(input);
        var text = input.OptionalString("text", TaskStore.MaxTextLength);
        var schedule = input.OptionalString("schedule", 100);
        if (text is null && schedule is null)
        {
            throw new ToolInputException("update needs a new \"text\" or \"schedule\"");
        }
        return new ToolResult("Updated " + Line(store.Update(owner, id, text, schedule)));
    }

    private ToolResult Close(ToolInput input, string owner, string action)
    {
        var id = RequiredId(input);
        var task = action == "complete" ? store.Complete(owner, id) : store.Cancel(owner, id);
        return new ToolResult((action == "complete" ? "Completed " : "Cancelled ") + Line(task));
    }

    private static long RequiredId(ToolInput input) =>
        input.OptionalInteger("id", 1, long.MaxValue) ?? throw new ToolInputException("\"id\" is required: the task's number");

    /// <summary>One task as the model sees it: <c>#5 reminder, daily 08:00, next Tue 2026-11-24 08:00: Take the pills</c>.</summary>
    internal string Line(TaskItem task)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"#{task.Id} {task.Kind}"));
        if (task.State != TaskState.Active)
        {
            line.Append(" (").Append(task.State).Append(')');
        }
        if (task.Schedule is not null)
        {
            var schedule = TaskSchedule.Parse(task.Schedule, DateTimeOffset.UnixEpoch, store.UtcOffset);
            line.Append(", ").Append(schedule.Describe(store.UtcOffset));
        }
        if (task.NextRun is long next && (task.Schedule is null || !task.Schedule.StartsWith("at ", StringComparison.Ordinal)))
        {
            line.Append(", next ").Append(Time(next));
        }
        line.Append(": ").Append(task.Text.Replace("\n", " / ", StringComparison.Ordinal));
        return line.ToString();
    }

    private string Time(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToOffset(store.UtcOffset).ToString("ddd yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
