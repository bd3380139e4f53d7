using System.Text.Json.Serialization;

namespace BoxBot.WhatsApp.Outbound;

// The Cloud API's wire format for POST /{version}/{phone_number_id}/messages, as far as the box uses it.
// Properties are serialized in declaration order, which is the order Meta documents.

/// <summary>A text message: <c>{"messaging_product":"whatsapp","recipient_type":"individual","to","type":"text","text":{...}}</c>.</summary>
internal sealed record GraphTextMessage
{
    [JsonPropertyName("messaging_product")] public string MessagingProduct { get; init; } = "whatsapp";
    [JsonPropertyName("recipient_type")] public string RecipientType { get; init; } = "individual";
    [JsonPropertyName("to")] public required string To { get; init; }
    [JsonPropertyName("type")] public string Type { get; init; } = "text";
    [JsonPropertyName("text")] public required GraphText Text { get; init; }
}

internal sealed record GraphText
{
    // Off: a link in a message the box sends must not make WhatsApp fetch it for a preview.
    [JsonPropertyName("preview_url")] public bool PreviewUrl { get; init; }
    [JsonPropertyName("body")] public required string Body { get; init; }
}

/// <summary>The answer to an accepted message: <c>{"messaging_product","contacts":[{"input","wa_id"}],"messages":[{"id"}]}</c>.</summary>
internal sealed record GraphSendResponse
{
    [JsonPropertyName("messaging_product")] public string? MessagingProduct { get; init; }
    [JsonPropertyName("contacts")] public IReadOnlyList<GraphContact>? Contacts { get; init; }
    [JsonPropertyName("messages")] public IReadOnlyList<GraphMessageId>? Messages { get; init; }
}

internal sealed record GraphContact
{
    [JsonPropertyName("input")] public string? Input { get; init; }
    [JsonPropertyName("wa_id")] public string? WaId { get; init; }
}

internal sealed record GraphMessageId
{
    [JsonPropertyName("id")] public string? Id { get; init; }
}

/// <summary>A refusal: <c>{"error":{"message","type","code","error_subcode","fbtrace_id","error_data":{"details"}}}</c>.</summary>
internal sealed record GraphErrorResponse
{
    [JsonPropertyName("error")] public GraphError? Error { get; init; }
}

internal sealed record GraphError
{
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("code")] public int? Code { get; init; }
    [JsonPropertyName("error_subcode")] public int? Subcode { get; init; }
    [JsonPropertyName("fbtrace_id")] public string? FbTraceId { get; init; }
    [JsonPropertyName("error_data")] public GraphErrorData? ErrorData { get; init; }
}

internal sealed record GraphErrorData
{
    [JsonPropertyName("details")] public string? Details { get; init; }
}

/// <summary>One line of the development outbox.</summary>
internal sealed record OutboxLine
{
    [JsonPropertyName("time")] public required DateTimeOffset Time { get; init; }
    [JsonPropertyName("to")] public required string To { get; init; }
    [JsonPropertyName("text")] public required string Text { get; init; }
    [JsonPropertyName("parts")] public required int Parts { get; init; }
    [JsonPropertyName("sent")] public bool Sent { get; init; }
    [JsonPropertyName("reason")] public required string Reason { get; init; }
}

// Numbers as strings are accepted too: Graph sends codes as numbers, but a proxy or an older version may not.
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(GraphTextMessage))]
[JsonSerializable(typeof(GraphSendResponse))]
[JsonSerializable(typeof(GraphErrorResponse))]
[JsonSerializable(typeof(OutboxLine))]
internal sealed partial class GraphJsonContext : JsonSerializerContext;
