namespace BoxBot.Agent.Memory;

/// <summary>
/// The memory's tables: migration 4 of the agent's database. <c>memory_facts</c> holds the facts; <c>memory_fts</c> is an
/// FTS5 index over their text and topic with the facts table as its external content, kept in step by triggers, so a
/// search ranks with bm25 and reads the facts themselves from one place.
/// </summary>
internal static class MemorySchema
{
    // The topic is the subject of household and method facts only: a person fact's subject is a conversation key
    // (whatsapp:4915...), whose words would make every person fact match "whatsapp". Generated, so the index and a
    // 'rebuild' of it read the same value. Use counts and times change on every search; the update trigger fires only
    // when an indexed value changes.
    public const string Sql = """
        CREATE TABLE memory_facts(
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL CHECK (scope IN ('person', 'household', 'method')),
            subject TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            last_used_at INTEGER NOT NULL,
            use_count INTEGER NOT NULL DEFAULT 0,
            created_by TEXT NOT NULL,
            topic TEXT GENERATED ALWAYS AS (CASE WHEN scope = 'person' THEN '' ELSE subject END) VIRTUAL,
            CHECK (scope <> 'person' OR subject <> '')
        ) STRICT;
        CREATE INDEX memory_facts_by_use ON memory_facts(use_count, last_used_at, id);
        CREATE INDEX memory_facts_by_subject ON memory_facts(scope, subject);
        CREATE VIRTUAL TABLE memory_fts USING fts5(
            text, topic,
            content = 'memory_facts', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER memory_facts_insert AFTER INSERT ON memory_facts BEGIN
            INSERT INTO memory_fts(rowid, text, topic) VALUES (new.id, new.text, new.topic);
        END;
        CREATE TRIGGER memory_facts_delete AFTER DELETE ON memory_facts BEGIN
            INSERT INTO memory_fts(memory_fts, rowid, text, topic) VALUES ('delete', old.id, old.text, old.topic);
        END;
        CREATE TRIGGER memory_facts_update AFTER UPDATE OF text, scope, subject ON memory_facts BEGIN
            INSERT INTO memory_fts(memory_fts, rowid, text, topic) VALUES ('delete', old.id, old.text, old.topic);
            INSERT INTO memory_fts(rowid, text, topic) VALUES (new.id, new.text, new.topic);
        END;
        """;
}
