namespace BoxBot.Agent.Memory;

/// <summary>The memory's tables: migration 4 of the agent's database (placeholder until the memory store lands).</summary>
internal static class MemorySchema
{
    public const string Sql = "CREATE TABLE memory_placeholder(id INTEGER PRIMARY KEY) STRICT;";
}
