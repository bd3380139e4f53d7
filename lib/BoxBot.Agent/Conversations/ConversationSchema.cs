namespace BoxBot.Agent.Conversations;

/// <summary>Conversations, their messages, token usage and the action log: migration 3 of the agent's database.</summary>
internal static class ConversationSchema
{
    public const string Sql = "CREATE TABLE conversations_placeholder(id INTEGER PRIMARY KEY) STRICT;";
}
