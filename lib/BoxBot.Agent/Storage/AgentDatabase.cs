using BoxBot.Storage;
using Microsoft.Data.Sqlite;

namespace BoxBot.Agent.Storage;

/// <summary>
/// The agent's database (<c>boxbot.db</c> in its state folder): one connection, one caller at a time. Each area keeps
/// its tables in a migration below and its queries in its own class (<see cref="WhatsAppLog"/>, <see cref="Identity.UserRegistry"/>).
/// </summary>
public sealed class AgentDatabase : IDisposable
{
    public const string FileName = "boxbot.db";

    // Append-only: a shipped migration is never edited; a change is a new one at the end.
    internal static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the WhatsApp channel. Inbound messages by their WhatsApp id (so a delivery recorded twice is one row),
        // outbound messages by the id the Graph API gave them, and every delivery receipt by its key.
        """
        CREATE TABLE whatsapp_inbox(
            id TEXT PRIMARY KEY,
            sender TEXT NOT NULL,
            name TEXT,
            type TEXT NOT NULL,
            text TEXT,
            media_id TEXT,
            mime_type TEXT,
            filename TEXT,
            reply_id TEXT,
            ref_id TEXT,
            phone_number_id TEXT,
            sent_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'new'
        ) STRICT;
        CREATE INDEX whatsapp_inbox_by_sender ON whatsapp_inbox(sender, received_at);
        CREATE TABLE whatsapp_outbound(
            id TEXT PRIMARY KEY,
            recipient TEXT NOT NULL,
            text TEXT NOT NULL,
            part INTEGER NOT NULL,
            sent_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'accepted',
            status_at INTEGER,
            error_code INTEGER,
            error_title TEXT
        ) STRICT;
        CREATE TABLE whatsapp_receipts(
            key TEXT PRIMARY KEY,
            id TEXT NOT NULL,
            recipient TEXT,
            status TEXT NOT NULL,
            at INTEGER NOT NULL,
            error_code INTEGER,
            error_title TEXT
        ) STRICT;
        """,
        // 2: the user registry (Identity/UserRegistry.cs). Registration codes are kept only as HMACs under the box key
        // (identity.key beside the database, never in it). auth_events is append-only: nothing updates or deletes it.
        """
        CREATE TABLE users(
            number TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            name_verified INTEGER NOT NULL DEFAULT 0,
            role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
            is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary = 0 OR role = 'admin'),
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER
        ) STRICT;
        CREATE UNIQUE INDEX users_one_primary ON users(is_primary) WHERE is_primary = 1;
        CREATE TABLE registration_codes(
            id INTEGER PRIMARY KEY,
            hmac BLOB NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('user', 'bootstrap')),
            issued_by TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'used', 'revoked')),
            closed_at INTEGER,
            used_by TEXT,
            used_message TEXT
        ) STRICT;
        CREATE INDEX registration_codes_by_state ON registration_codes(state);
        CREATE INDEX registration_codes_by_issuer ON registration_codes(issued_by, issued_at);
        CREATE INDEX registration_codes_by_message ON registration_codes(used_message) WHERE used_message IS NOT NULL;
        CREATE TABLE failed_attempts(
            message_id TEXT PRIMARY KEY,
            sender TEXT NOT NULL,
            at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX failed_attempts_by_sender ON failed_attempts(sender, at);
        CREATE INDEX failed_attempts_by_time ON failed_attempts(at);
        CREATE TABLE blocks(
            sender TEXT PRIMARY KEY,
            level INTEGER NOT NULL,
            since INTEGER NOT NULL,
            until INTEGER
        ) STRICT;
        CREATE TABLE auth_events(
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            event TEXT NOT NULL,
            subject TEXT,
            actor TEXT,
            detail TEXT
        ) STRICT;
        CREATE TRIGGER auth_events_append_only_update BEFORE UPDATE ON auth_events BEGIN SELECT RAISE(ABORT, 'auth_events is append-only'); END;
        CREATE TRIGGER auth_events_append_only_delete BEFORE DELETE ON auth_events BEGIN SELECT RAISE(ABORT, 'auth_events is append-only'); END;
        CREATE TABLE identity_state(
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) STRICT;
        """,
        // 3: conversations, their messages and tool calls, token usage, the action log.
        Conversations.ConversationSchema.Sql,
        // 4: memory (facts, FTS5).
        Memory.MemorySchema.Sql,
        // 5: tasks and their schedules.
        Tasks.TaskSchema.Sql,
    ];

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private int _disposed;

    private AgentDatabase(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating and migrating) <c>boxbot.db</c> in <paramref name="stateDir"/>.</summary>
    /// <exception cref="StorageException">It cannot be opened safely.</exception>
    public static AgentDatabase Open(string stateDir) =>
        new(SqliteDatabase.Open(Path.Combine(stateDir, FileName), Migrations));

    /// <summary>Runs <paramref name="work"/> with the connection, alone.</summary>
    internal T Use<T>(Func<SqliteConnection, T> work)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return work(_connection);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _connection.Dispose();
            }
        }
    }
}
