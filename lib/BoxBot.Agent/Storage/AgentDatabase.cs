using BoxBot.Storage;
using Microsoft.Data.Sqlite;

namespace BoxBot.Agent.Storage;

/// <summary>
/// The agent's database (<c>boxbot.db</c> in its state folder): one connection, one caller at a time. Each area keeps
/// its tables in a migration below and its queries in its own class (<see cref="WhatsAppLog"/>).
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
