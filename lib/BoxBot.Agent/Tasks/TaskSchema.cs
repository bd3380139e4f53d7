namespace BoxBot.Agent.Tasks;

/// <summary>The tasks' tables: migration 5 of the agent's database (placeholder until the task store lands).</summary>
internal static class TaskSchema
{
    public const string Sql = "CREATE TABLE tasks_placeholder(id INTEGER PRIMARY KEY) STRICT;";
}
