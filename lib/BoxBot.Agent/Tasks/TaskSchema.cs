namespace BoxBot.Agent.Tasks;

/// <summary>
/// The tasks' table: migration 5 of the agent's database. A task's schedule is kept as its canonical text
/// (<see cref="TaskSchedule.Text"/>) and its next run as Unix seconds, so the scheduler's question "what is due?" is one
/// indexed range read, and every rule about schedules stays in code.
/// </summary>
internal static class TaskSchema
{
    public const string Sql = """
        CREATE TABLE tasks(
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('reminder', 'todo')),
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
            schedule TEXT,
            next_run INTEGER,
            state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'done', 'cancelled')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            last_run INTEGER,
            closed_at INTEGER,
            CHECK (kind <> 'reminder' OR schedule IS NOT NULL),
            CHECK (next_run IS NULL OR (schedule IS NOT NULL AND state = 'active'))
        ) STRICT;
        CREATE INDEX tasks_due ON tasks(next_run) WHERE state = 'active' AND next_run IS NOT NULL;
        CREATE INDEX tasks_by_owner ON tasks(owner, state, id);
        """;
}
