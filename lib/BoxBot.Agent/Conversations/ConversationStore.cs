using System.Globalization;
using System.Text;
using System.Text.Json;
using BoxBot.Agent.Llm;
using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using Microsoft.Data.Sqlite;
using static BoxBot.Agent.Storage.Sql;

namespace BoxBot.Agent.Conversations;

/// <summary>
/// Conversations in the agent's database: threads (a new one after <see cref="IdleRollover"/> without input), their
/// messages as provider-neutral blocks, token usage per thread and per day, and the append-only action log.
/// </summary>
public sealed class ConversationStore(AgentDatabase database, TimeProvider time)
{
    public static readonly TimeSpan IdleRollover = TimeSpan.FromHours(4);

    /// <summary>At most this many messages of a thread go to the model (the oldest are left out).</summary>
    public const int HistoryLimit = 80;

    public TimeProvider Time => time;

    internal AgentDatabase Database => database;

    /// <summary>
    /// Stores a person's input in the conversation's current thread (starting a new thread after 4 hours idle). False,
    /// and nothing stored, when <paramref name="inputId"/> was stored before (an input handed over twice).
    /// </summary>
    public bool AddInput(string conversation, string text, string? inputId) => database.Use(c =>
    {
        var now = Now();
        using var tx = c.BeginTransaction();
        if (inputId is not null && Exists(c, "SELECT 1 FROM thread_messages WHERE input_id = $a", inputId))
        {
            return false;
        }
        var thread = CurrentThread(c, conversation, now, create: true)!.Value;
        Insert(c, thread, LlmMessage.User, [new LlmText(text)], inputId, now);
        Execute(c, "UPDATE threads SET last_active_at = $b WHERE id = $a", thread, now);
        tx.Commit();
        return true;
    });

    /// <summary>Appends a message of the turn (the model's answer, or tool results) to the conversation's current thread.</summary>
    public void Append(string conversation, LlmMessage message) => database.Use(c =>
    {
        var now = Now();
        var thread = CurrentThread(c, conversation, now, create: true)!.Value;
        Insert(c, thread, message.Role, message.Content, null, now);
        return 0;
    });

    /// <summary>
    /// The current thread's messages for the model, oldest first: at most <see cref="HistoryLimit"/>, starting at a
    /// person's input (never at a tool result whose call was cut off), with consecutive messages of one role merged.
    /// </summary>
    public IReadOnlyList<LlmMessage> History(string conversation) => database.Use(c =>
    {
        var thread = CurrentThread(c, conversation, Now(), create: false);
        if (thread is null)
        {
            return (IReadOnlyList<LlmMessage>)[];
        }
        using var command = Command(c, "SELECT role, content FROM (SELECT id, role, content FROM thread_messages WHERE thread_id = $a ORDER BY id DESC LIMIT $b) ORDER BY id",
            thread.Value, HistoryLimit);
        using var reader = command.ExecuteReader();
        var messages = new List<LlmMessage>();
        while (reader.Read())
        {
            messages.Add(new LlmMessage(reader.GetString(0), BlockJson.Read(reader.GetString(1))));
        }
        var start = messages.FindIndex(m => m.Role == LlmMessage.User && m.Content.All(b => b is LlmText));
        return start < 0 ? [] : Merge(messages.Skip(start));
    });

    /// <summary>
    /// Conversations whose current thread ends with a person's input or tool results: a turn was running, or had not
    /// started, when the agent stopped. The agent resumes them at start.
    /// </summary>
    public IReadOnlyList<string> Unanswered() => database.Use(c =>
    {
        using var command = Command(c, """
            SELECT t.conversation, m.role FROM threads t
            JOIN thread_messages m ON m.id = (SELECT max(id) FROM thread_messages WHERE thread_id = t.id)
            WHERE t.last_active_at > $a AND t.id = (SELECT id FROM threads WHERE conversation = t.conversation ORDER BY last_active_at DESC, id DESC LIMIT 1)
            """, Now() - (long)IdleRollover.TotalSeconds);
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            if (reader.GetString(1) == LlmMessage.User)
            {
                keys.Add(reader.GetString(0));
            }
        }
        return (IReadOnlyList<string>)keys;
    });

    /// <summary>Adds a model call's tokens and cost to its thread and to today's total.</summary>
    public void AddUsage(string conversation, long inputTokens, long outputTokens, long costMicros) => database.Use(c =>
    {
        var now = Now();
        using var tx = c.BeginTransaction();
        if (CurrentThread(c, conversation, now, create: false) is { } thread)
        {
            Execute(c, "UPDATE threads SET input_tokens = input_tokens + $b, output_tokens = output_tokens + $c, cost_micros = cost_micros + $d WHERE id = $a",
                thread, inputTokens, outputTokens, costMicros);
        }
        Execute(c, """
            INSERT INTO llm_usage_daily(day, input_tokens, output_tokens, cost_micros) VALUES ($a, $b, $c, $d)
            ON CONFLICT(day) DO UPDATE SET input_tokens = input_tokens + $b, output_tokens = output_tokens + $c, cost_micros = cost_micros + $d
            """, Day(now), inputTokens, outputTokens, costMicros);
        tx.Commit();
        return 0;
    });

    /// <summary>Today's (UTC) spend in micro-dollars.</summary>
    public long TodayCostMicros() => database.Use(c => Count(c, "SELECT coalesce(max(cost_micros), 0) FROM llm_usage_daily WHERE day = $a", Day(Now())));

    /// <summary>True the first time it is called on a day the cap was reached (so admins are told once a day).</summary>
    public bool FirstCapNoticeToday() => database.Use(c =>
    {
        var day = Day(Now());
        Execute(c, "INSERT INTO llm_usage_daily(day) VALUES ($a) ON CONFLICT(day) DO NOTHING", day);
        using var command = Command(c, "UPDATE llm_usage_daily SET cap_notified = 1 WHERE day = $a AND cap_notified = 0", day);
        return command.ExecuteNonQuery() == 1;
    });

    /// <summary>Appends one tool call to the action log.</summary>
    public void LogAction(string conversation, string speaker, string tool, string arguments, string outcome, bool isError) => database.Use(c =>
    {
        Execute(c, "INSERT INTO action_log(at, conversation, speaker, tool, arguments, outcome, is_error) VALUES ($a, $b, $c, $d, $e, $f, $g)",
            Now(), conversation, speaker, tool, arguments, outcome, isError ? 1 : 0);
        return 0;
    });

    /// <summary>Action log entries after <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<ActionLogEntry> Actions(long after, int limit) => database.Use(c =>
    {
        using var command = Command(c, "SELECT id, at, conversation, speaker, tool, arguments, outcome, is_error FROM action_log WHERE id > $a ORDER BY id LIMIT $b",
            after, Math.Clamp(limit, 1, 1000));
        using var reader = command.ExecuteReader();
        var entries = new List<ActionLogEntry>();
        while (reader.Read())
        {
            entries.Add(new ActionLogEntry
            {
                Id = reader.GetInt64(0),
                At = reader.GetInt64(1),
                Conversation = reader.GetString(2),
                Speaker = reader.GetString(3),
                Tool = reader.GetString(4),
                Arguments = reader.GetString(5),
                Outcome = reader.GetString(6),
                Error = reader.GetInt64(7) != 0,
            });
        }
        return (IReadOnlyList<ActionLogEntry>)entries;
    });

    private static List<LlmMessage> Merge(IEnumerable<LlmMessage> messages)
    {
        var merged = new List<LlmMessage>();
        foreach (var message in messages)
        {
            if (merged.Count > 0 && merged[^1].Role == message.Role)
            {
                merged[^1] = merged[^1] with { Content = [.. merged[^1].Content, .. message.Content] };
            }
            else
            {
                merged.Add(message);
            }
        }
        return merged;
    }

    private static long? CurrentThread(SqliteConnection c, string conversation, long now, bool create)
    {
        using (var command = Command(c, "SELECT id, last_active_at FROM threads WHERE conversation = $a ORDER BY last_active_at DESC, id DESC LIMIT 1", conversation))
        using (var reader = command.ExecuteReader())
        {
            if (reader.Read() && reader.GetInt64(1) > now - (long)IdleRollover.TotalSeconds)
            {
                return reader.GetInt64(0);
            }
        }
        if (!create)
        {
            return null;
        }
        Execute(c, "INSERT INTO threads(conversation, started_at, last_active_at) VALUES ($a, $b, $b)", conversation, now);
        return Count(c, "SELECT last_insert_rowid()");
    }

    private static void Insert(SqliteConnection c, long thread, string role, IReadOnlyList<LlmBlock> content, string? inputId, long now) =>
        Execute(c, "INSERT INTO thread_messages(thread_id, at, role, content, input_id) VALUES ($a, $b, $c, $d, $e)",
            thread, now, role, BlockJson.Write(content), inputId);

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();

    private static string Day(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

}

/// <summary>Blocks as stored: a JSON array of {type: text|tool_use|tool_result, ...}, the Anthropic shape.</summary>
internal static class BlockJson
{
    public static string Write(IReadOnlyList<LlmBlock> blocks)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var block in blocks)
            {
                json.WriteStartObject();
                switch (block)
                {
                    case LlmText text:
                        json.WriteString("type", "text");
                        json.WriteString("text", text.Text);
                        break;
                    case LlmToolUse use:
                        json.WriteString("type", "tool_use");
                        json.WriteString("id", use.Id);
                        json.WriteString("name", use.Name);
                        json.WritePropertyName("input");
                        use.Input.WriteTo(json);
                        break;
                    case LlmToolResult result:
                        json.WriteString("type", "tool_result");
                        json.WriteString("tool_use_id", result.ToolUseId);
                        json.WriteString("content", result.Content);
                        json.WriteBoolean("is_error", result.IsError);
                        break;
                    default:
                        throw new ArgumentException("unknown block " + block.GetType().Name, nameof(blocks));
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IReadOnlyList<LlmBlock> Read(string text)
    {
        using var doc = JsonDocument.Parse(text);
        var blocks = new List<LlmBlock>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            blocks.Add(e.GetProperty("type").GetString() switch
            {
                "text" => new LlmText(e.GetProperty("text").GetString()!),
                "tool_use" => new LlmToolUse(e.GetProperty("id").GetString()!, e.GetProperty("name").GetString()!, e.GetProperty("input").Clone()),
                "tool_result" => new LlmToolResult(e.GetProperty("tool_use_id").GetString()!, e.GetProperty("content").GetString()!,
                    e.GetProperty("is_error").GetBoolean()),
                var type => throw new InvalidDataException("unknown stored block type " + type),
            });
        }
        return blocks;
    }
}
