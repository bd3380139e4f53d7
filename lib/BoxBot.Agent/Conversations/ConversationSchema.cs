namespace BoxBot.Agent.Conversations;

/// <summary>Conversations, their messages, token usage and the action log: migration 3 of the agent's database.</summary>
internal static class ConversationSchema
{
    // A conversation key has threads: a new one starts after ConversationStore.IdleRollover without input. Messages
    // are stored as the provider-neutral blocks (JSON), so a restart resumes with the same history. input_id ties a
    // person's message to where it came from (the WhatsApp inbox id), so an input handed over twice is stored once.
    public const string Sql = """
        CREATE TABLE threads(
            id INTEGER PRIMARY KEY,
            conversation TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            last_active_at INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX threads_by_conversation ON threads(conversation, last_active_at);
        CREATE TABLE thread_messages(
            id INTEGER PRIMARY KEY,
            thread_id INTEGER NOT NULL REFERENCES threads(id),
            at INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            input_id TEXT UNIQUE
        ) STRICT;
        CREATE INDEX thread_messages_by_thread ON thread_messages(thread_id, id);
        CREATE TABLE llm_usage_daily(
            day TEXT PRIMARY KEY,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER NOT NULL DEFAULT 0,
            cap_notified INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE TABLE action_log(
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            conversation TEXT NOT NULL,
            speaker TEXT NOT NULL,
            tool TEXT NOT NULL,
            arguments TEXT NOT NULL,
            outcome TEXT NOT NULL,
            is_error INTEGER NOT NULL
        ) STRICT;
        CREATE TRIGGER action_log_append_only_update BEFORE UPDATE ON action_log BEGIN SELECT RAISE(ABORT, 'action_log is append-only'); END;
        CREATE TRIGGER action_log_append_only_delete BEFORE DELETE ON action_log BEGIN SELECT RAISE(ABORT, 'action_log is append-only'); END;
        """;
}
