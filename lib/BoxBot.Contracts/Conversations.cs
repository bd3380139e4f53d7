using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>Agent methods of the conversation engine for admins at the console.</summary>
public static class ChatMethods
{
    /// <summary>
    /// <see cref="ChatRequest"/> → <see cref="ChatResult"/>: one input in the caller's console conversation
    /// (<c>console:&lt;unix user&gt;</c>); answers when the turn ends, with what the agent sent to the caller. New input in the
    /// same conversation cancels a running turn; cancelling the call cancels its turn.
    /// </summary>
    public const string Send = "chat.send";

    /// <summary><see cref="ActionLogRequest"/> → <see cref="ActionLogPage"/>: the action log, oldest first, after an id.</summary>
    public const string Log = "log.read";
}

public sealed record ChatRequest
{
    [JsonPropertyName("text")] public required string Text { get; init; }
}

public sealed record ChatResult
{
    /// <summary>"done", "superseded" (newer input took over the turn), "limit" (too many steps or the output cap), "budget" (the daily budget is spent), "failed" (the model could not be reached).</summary>
    [JsonPropertyName("outcome")] public required string Outcome { get; init; }

    /// <summary>The messages the agent sent to the caller during the turn, in order.</summary>
    [JsonPropertyName("messages")] public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>For "failed": what went wrong.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
}

public sealed record ActionLogRequest
{
    /// <summary>Entries with a larger id (0: from the start).</summary>
    [JsonPropertyName("after")] public long After { get; init; }

    [JsonPropertyName("limit")] public int Limit { get; init; } = 100;
}

/// <summary>One tool call: who (speaker), in which conversation, with which arguments (secret values redacted), and its outcome.</summary>
public sealed record ActionLogEntry
{
    [JsonPropertyName("id")] public long Id { get; init; }
    [JsonPropertyName("at")] public long At { get; init; }
    [JsonPropertyName("conversation")] public required string Conversation { get; init; }
    [JsonPropertyName("speaker")] public required string Speaker { get; init; }
    [JsonPropertyName("tool")] public required string Tool { get; init; }
    [JsonPropertyName("arguments")] public required string Arguments { get; init; }
    [JsonPropertyName("outcome")] public required string Outcome { get; init; }
    [JsonPropertyName("error")] public bool Error { get; init; }
}

public sealed record ActionLogPage
{
    [JsonPropertyName("entries")] public IReadOnlyList<ActionLogEntry> Entries { get; init; } = [];
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatRequest))]
[JsonSerializable(typeof(ChatResult))]
[JsonSerializable(typeof(ActionLogRequest))]
[JsonSerializable(typeof(ActionLogEntry))]
[JsonSerializable(typeof(ActionLogPage))]
public sealed partial class ConversationsJsonContext : JsonSerializerContext;
