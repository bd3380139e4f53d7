using BoxBot.Contracts;
using Microsoft.Data.Sqlite;

namespace BoxBot.Agent.Storage;

/// <summary>The WhatsApp channel's records in the agent's database: the inbox, outbound messages and their receipts.</summary>
public sealed class WhatsAppLog(AgentDatabase database, TimeProvider time)
{
    /// <summary>Order of receipt states: a late "delivered" never overwrites "read". "failed" always wins.</summary>
    private static readonly string[] StatusOrder = ["accepted", "sent", "delivered", "read"];

    /// <summary>
    /// Records one inbound event. True when it is new; false when its key was recorded before (a redelivery),
    /// in which case nothing changes.
    /// </summary>
    public bool Record(WhatsAppEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return database.Use(c => e.Kind == WhatsAppEvent.StatusKind ? RecordReceipt(c, e) : RecordMessage(c, e));
    }

    /// <summary>Records an outbound message part the Graph API accepted (its id is what receipts refer to).</summary>
    public void RecordOutbound(string id, string recipient, string text, int part)
    {
        database.Use(c =>
        {
            using var command = Command(c, """
                INSERT OR IGNORE INTO whatsapp_outbound(id, recipient, text, part, sent_at) VALUES ($id, $recipient, $text, $part, $at)
                """);
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$recipient", recipient);
            command.Parameters.AddWithValue("$text", text);
            command.Parameters.AddWithValue("$part", part);
            command.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeSeconds());
            return command.ExecuteNonQuery();
        });
    }

    /// <summary>Inbound messages not yet handed to a conversation (state "new"), oldest first.</summary>
    public IReadOnlyList<WhatsAppEvent> Pending() => Inbox(state: "new");

    /// <summary>Marks an inbound message as handed to its conversation.</summary>
    public void MarkHandled(string id) => database.Use(c =>
    {
        using var command = Command(c, "UPDATE whatsapp_inbox SET state = 'handled' WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery();
    });

    /// <summary>Number of inbound messages recorded.</summary>
    public long InboxCount => database.Use(c => BoxBot.Storage.SqliteDatabase.Scalar(c, "SELECT count(*) FROM whatsapp_inbox"));

    /// <summary>The inbound messages, oldest first (tests and, later, routing).</summary>
    public IReadOnlyList<WhatsAppEvent> Inbox(string? sender = null, string? state = null) => database.Use(c =>
    {
        using var command = Command(c, """
            SELECT id, sender, name, type, text, media_id, mime_type, filename, reply_id, ref_id, phone_number_id, sent_at
            FROM whatsapp_inbox WHERE ($sender IS NULL OR sender = $sender) AND ($state IS NULL OR state = $state) ORDER BY received_at, rowid
            """);
        command.Parameters.AddWithValue("$sender", (object?)sender ?? DBNull.Value);
        command.Parameters.AddWithValue("$state", (object?)state ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var events = new List<WhatsAppEvent>();
        while (reader.Read())
        {
            events.Add(new WhatsAppEvent
            {
                Key = reader.GetString(0),
                Kind = WhatsAppEvent.MessageKind,
                Id = reader.GetString(0),
                From = reader.GetString(1),
                Name = Text(reader, 2),
                Type = reader.GetString(3),
                Text = Text(reader, 4),
                MediaId = Text(reader, 5),
                MimeType = Text(reader, 6),
                Filename = Text(reader, 7),
                ReplyId = Text(reader, 8),
                RefId = Text(reader, 9),
                PhoneNumberId = Text(reader, 10),
                Timestamp = reader.GetInt64(11),
            });
        }
        return (IReadOnlyList<WhatsAppEvent>)events;
    });

    /// <summary>An outbound message's latest known status ("accepted" until a receipt arrives), or null for an unknown id.</summary>
    public string? OutboundStatus(string id) => database.Use(c =>
    {
        using var command = Command(c, "SELECT status FROM whatsapp_outbound WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() as string;
    });

    private bool RecordMessage(SqliteConnection c, WhatsAppEvent e)
    {
        using var command = Command(c, """
            INSERT OR IGNORE INTO whatsapp_inbox(id, sender, name, type, text, media_id, mime_type, filename, reply_id, ref_id, phone_number_id, sent_at, received_at)
            VALUES ($id, $sender, $name, $type, $text, $media_id, $mime_type, $filename, $reply_id, $ref_id, $phone_number_id, $sent_at, $received_at)
            """);
        var p = command.Parameters;
        p.AddWithValue("$id", e.Id);
        p.AddWithValue("$sender", e.From ?? "");
        p.AddWithValue("$name", Db(e.Name));
        p.AddWithValue("$type", e.Type ?? "unknown");
        p.AddWithValue("$text", Db(e.Text));
        p.AddWithValue("$media_id", Db(e.MediaId));
        p.AddWithValue("$mime_type", Db(e.MimeType));
        p.AddWithValue("$filename", Db(e.Filename));
        p.AddWithValue("$reply_id", Db(e.ReplyId));
        p.AddWithValue("$ref_id", Db(e.RefId));
        p.AddWithValue("$phone_number_id", Db(e.PhoneNumberId));
        p.AddWithValue("$sent_at", e.Timestamp);
        p.AddWithValue("$received_at", time.GetUtcNow().ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1;
    }

    private static bool RecordReceipt(SqliteConnection c, WhatsAppEvent e)
    {
        using var transaction = c.BeginTransaction();
        using var insert = Command(c, """
            INSERT OR IGNORE INTO whatsapp_receipts(key, id, recipient, status, at, error_code, error_title)
            VALUES ($key, $id, $recipient, $status, $at, $error_code, $error_title)
            """);
        insert.Transaction = transaction;
        insert.Parameters.AddWithValue("$key", e.Key);
        insert.Parameters.AddWithValue("$id", e.Id);
        insert.Parameters.AddWithValue("$recipient", Db(e.From));
        insert.Parameters.AddWithValue("$status", e.Status ?? "unknown");
        insert.Parameters.AddWithValue("$at", e.Timestamp);
        insert.Parameters.AddWithValue("$error_code", (object?)e.ErrorCode ?? DBNull.Value);
        insert.Parameters.AddWithValue("$error_title", Db(e.ErrorTitle));
        if (insert.ExecuteNonQuery() == 0)
        {
            return false;
        }

        // Receipts may arrive out of order: move the outbound message's status forward only.
        var rank = Array.IndexOf(StatusOrder, e.Status);
        using var update = Command(c, """
            UPDATE whatsapp_outbound SET status = $status, status_at = $at, error_code = $error_code, error_title = $error_title
            WHERE id = $id AND status <> 'failed'
              AND ($status = 'failed' OR $rank > (CASE status WHEN 'accepted' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE -1 END))
            """);
        update.Transaction = transaction;
        update.Parameters.AddWithValue("$status", e.Status ?? "unknown");
        update.Parameters.AddWithValue("$at", e.Timestamp);
        update.Parameters.AddWithValue("$error_code", (object?)e.ErrorCode ?? DBNull.Value);
        update.Parameters.AddWithValue("$error_title", Db(e.ErrorTitle));
        update.Parameters.AddWithValue("$id", e.Id);
        update.Parameters.AddWithValue("$rank", rank);
        update.ExecuteNonQuery();
        transaction.Commit();
        return true;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql)
    {
        var command = c.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private static object Db(string? value) => (object?)value ?? DBNull.Value;

    private static string? Text(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
