using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>Agent methods of the WhatsApp channel.</summary>
public static class WhatsAppMethods
{
    /// <summary>
    /// Webhook → agent: a batch of spooled events (<see cref="WhatsAppInboundBatch"/> → <see cref="WhatsAppInboundAck"/>).
    /// Callable by the webhook's uid (and root) only. The agent records each event idempotently by its key and
    /// acknowledges it; the webhook deletes acknowledged events from its spool.
    /// </summary>
    public const string Inbound = "inbound.whatsapp";

    /// <summary>Admin → agent: send a text (<see cref="WhatsAppSendRequest"/> → <see cref="WhatsAppSendResult"/>).</summary>
    public const string Send = "whatsapp.send";
}

/// <summary>
/// One event from a WhatsApp Cloud API delivery, normalized by the webhook: an inbound message
/// (<see cref="Kind"/> "message") or a delivery receipt for an outbound one ("status").
/// Phone numbers are digits only. Every text field is untrusted data from the network.
/// </summary>
public sealed record WhatsAppEvent
{
    public const string MessageKind = "message";
    public const string StatusKind = "status";

    /// <summary>De-duplication key: the message id for messages, <c>status:{id}:{status}</c> for receipts.</summary>
    [JsonPropertyName("key")] public required string Key { get; init; }

    /// <summary>"message" or "status".</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>The WhatsApp message id (<c>wamid...</c>): of the inbound message, or of the outbound message a receipt is about.</summary>
    [JsonPropertyName("id")] public required string Id { get; init; }

    /// <summary>The box's business number id that received the delivery (<c>metadata.phone_number_id</c>), when present.</summary>
    [JsonPropertyName("phone_number_id")] public string? PhoneNumberId { get; init; }

    /// <summary>Unix time in seconds, as WhatsApp stamped the event.</summary>
    [JsonPropertyName("timestamp")] public long Timestamp { get; init; }

    // --- messages ---

    /// <summary>Sender's number (digits only); for receipts, the recipient of the outbound message.</summary>
    [JsonPropertyName("from")] public string? From { get; init; }

    /// <summary>The sender's WhatsApp profile name from <c>contacts</c>: untrusted, as the sender typed it.</summary>
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>WhatsApp's message type: text, image, audio, video, document, sticker, interactive, button, reaction, location, contacts, system, unsupported, ...</summary>
    [JsonPropertyName("type")] public string? Type { get; init; }

    /// <summary>Text body; for media the caption; for a button or list reply its title; for a reaction the emoji.</summary>
    [JsonPropertyName("text")] public string? Text { get; init; }

    /// <summary>Media id (fetch through the Graph API) for image, audio, video, document and sticker messages.</summary>
    [JsonPropertyName("media_id")] public string? MediaId { get; init; }

    [JsonPropertyName("mime_type")] public string? MimeType { get; init; }

    [JsonPropertyName("filename")] public string? Filename { get; init; }

    /// <summary>The id (or payload) of the chosen button or list row, for interactive and button replies.</summary>
    [JsonPropertyName("reply_id")] public string? ReplyId { get; init; }

    /// <summary>The message a reaction reacts to, or a reply quotes (<c>context.id</c>).</summary>
    [JsonPropertyName("ref_id")] public string? RefId { get; init; }

    // --- receipts ---

    /// <summary>sent, delivered, read or failed.</summary>
    [JsonPropertyName("status")] public string? Status { get; init; }

    /// <summary>For a failed receipt: the first error's code and title.</summary>
    [JsonPropertyName("error_code")] public int? ErrorCode { get; init; }

    [JsonPropertyName("error_title")] public string? ErrorTitle { get; init; }
}

/// <summary>Webhook → agent: spooled events, oldest first (so in order per sender).</summary>
public sealed record WhatsAppInboundBatch
{
    [JsonPropertyName("events")] public required IReadOnlyList<WhatsAppEvent> Events { get; init; }
}

/// <summary>Agent → webhook: the keys the agent has recorded (or already had, or refused for good as malformed).</summary>
public sealed record WhatsAppInboundAck
{
    [JsonPropertyName("acked")] public required IReadOnlyList<string> Acked { get; init; }
}

/// <summary>Admin → agent: send <see cref="Text"/> to <see cref="To"/> (digits, international form).</summary>
public sealed record WhatsAppSendRequest
{
    [JsonPropertyName("to")] public required string To { get; init; }
    [JsonPropertyName("text")] public required string Text { get; init; }
}

/// <summary>What became of a send: delivered to the Graph API, or written to the local outbox (development, no credentials).</summary>
public sealed record WhatsAppSendResult
{
    /// <summary>"sent" (accepted by the Graph API) or "outbox" (not sent: no Graph credentials; written to the outbox file).</summary>
    [JsonPropertyName("outcome")] public required string Outcome { get; init; }

    /// <summary>The WhatsApp message ids of the parts, in order (empty for the outbox).</summary>
    [JsonPropertyName("message_ids")] public IReadOnlyList<string> MessageIds { get; init; } = [];

    /// <summary>How many messages the text was split into (at 4096 characters).</summary>
    [JsonPropertyName("parts")] public int Parts { get; init; }

    /// <summary>The outbox file written, when <see cref="Outcome"/> is "outbox".</summary>
    [JsonPropertyName("outbox")] public string? Outbox { get; init; }
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WhatsAppEvent))]
[JsonSerializable(typeof(WhatsAppInboundBatch))]
[JsonSerializable(typeof(WhatsAppInboundAck))]
[JsonSerializable(typeof(WhatsAppSendRequest))]
[JsonSerializable(typeof(WhatsAppSendResult))]
public sealed partial class WhatsAppJsonContext : JsonSerializerContext;
