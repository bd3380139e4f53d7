using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.WhatsApp.Inbound;

/// <summary>
/// Writes webhook deliveries in the shape Meta sends them (UTF-8 JSON), for <c>boxbot whatsapp simulate</c>, tests
/// and benchmarks. One delivery holds entries, each entry changes (one per business number), each change messages
/// and statuses:
/// <code>
/// var body = new DeliveryBuilder("106540352242922")
///     .AddText("16505551234", "Sheena", "hello", DeliveryBuilder.NewMessageId(), 1739321024)
///     .AddStatus("wamid.OUT1", "16505551234", "read", 1739321025)
///     .Change("206540352242922")              // a second business number in the same entry
///     .AddImage(...)
///     .Entry("306540352242922", "987654321")  // a second business account
///     .AddText(...)
///     .Build();
/// </code>
/// Values are written as given (not checked), so tests can build malformed deliveries too.
/// </summary>
public sealed class DeliveryBuilder
{
    /// <summary>Starts every id <see cref="NewMessageId"/> makes, so a simulated message is recognisable anywhere it lands.</summary>
    public const string SimulatedIdPrefix = "wamid.SIM";

    private readonly List<EntryData> _entries = [];

    /// <summary>A delivery with one entry (business account <paramref name="businessAccountId"/>) and one change for <paramref name="phoneNumberId"/>.</summary>
    public DeliveryBuilder(string phoneNumberId, string businessAccountId = "0") => Entry(phoneNumberId, businessAccountId);

    /// <summary>Starts a new entry (another business account) with one change for <paramref name="phoneNumberId"/>.</summary>
    public DeliveryBuilder Entry(string phoneNumberId, string businessAccountId = "0")
    {
        ArgumentNullException.ThrowIfNull(businessAccountId);
        _entries.Add(new EntryData(businessAccountId));
        return Change(phoneNumberId);
    }

    /// <summary>Starts a new change (another business number) in the current entry.</summary>
    public DeliveryBuilder Change(string phoneNumberId)
    {
        ArgumentNullException.ThrowIfNull(phoneNumberId);
        _entries[^1].Changes.Add(new ChangeData(phoneNumberId));
        return this;
    }

    /// <summary>A text message from <paramref name="from"/>; <paramref name="name"/>, when given, goes into <c>contacts[]</c>.</summary>
    public DeliveryBuilder AddText(string from, string? name, string text, string messageId, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(text);
        return AddMessage(from, name, messageId, timestamp, "text", w =>
        {
            w.WriteStartObject("text");
            w.WriteString("body", text);
            w.WriteEndObject();
        });
    }

    /// <summary>An image message (the media id is what the Graph API would download).</summary>
    public DeliveryBuilder AddImage(string from, string? name, string mediaId, string mimeType, string? caption, string messageId, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(mediaId);
        ArgumentNullException.ThrowIfNull(mimeType);
        return AddMessage(from, name, messageId, timestamp, "image", w =>
        {
            w.WriteStartObject("image");
            if (caption is not null)
            {
                w.WriteString("caption", caption);
            }
            w.WriteString("mime_type", mimeType);
            // Meta sends the file's hash; a simulated image has no file, so any stable 64 hex digits do.
            w.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(mediaId))));
            w.WriteString("id", mediaId);
            w.WriteEndObject();
        });
    }

    /// <summary>A receipt for an outbound message: <paramref name="status"/> is sent, delivered, read or failed.</summary>
    public DeliveryBuilder AddStatus(string messageId, string recipient, string status, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(status);
        _entries[^1].Changes[^1].Statuses.Add(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", messageId);
            w.WriteString("status", status);
            w.WriteString("timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            w.WriteString("recipient_id", recipient);
            w.WriteEndObject();
        });
        return this;
    }

    /// <summary>The delivery body, UTF-8 JSON without indentation (as the signature will cover it).</summary>
    public byte[] Build()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("object", WebhookPayload.ObjectName);
            w.WriteStartArray("entry");
            foreach (var entry in _entries)
            {
                w.WriteStartObject();
                w.WriteString("id", entry.BusinessAccountId);
                w.WriteStartArray("changes");
                foreach (var change in entry.Changes)
                {
                    WriteChange(w, change);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A delivery of one text message.</summary>
    public static byte[] Text(string phoneNumberId, string from, string? name, string text, string messageId, long timestamp) =>
        new DeliveryBuilder(phoneNumberId).AddText(from, name, text, messageId, timestamp).Build();

    /// <summary>A delivery of one image message.</summary>
    public static byte[] Image(string phoneNumberId, string from, string? name, string mediaId, string mimeType, string? caption,
        string messageId, long timestamp) =>
        new DeliveryBuilder(phoneNumberId).AddImage(from, name, mediaId, mimeType, caption, messageId, timestamp).Build();

    /// <summary>A delivery of one receipt.</summary>
    public static byte[] Status(string phoneNumberId, string messageId, string recipient, string status, long timestamp) =>
        new DeliveryBuilder(phoneNumberId).AddStatus(messageId, recipient, status, timestamp).Build();

    /// <summary>
    /// A new unique message id shaped like Meta's (<c>wamid.</c> and base64): <see cref="SimulatedIdPrefix"/> and 24 random
    /// bytes in base64url, so it is printable ASCII without '+' or '/'.
    /// </summary>
    public static string NewMessageId()
    {
        Span<byte> random = stackalloc byte[24];
        RandomNumberGenerator.Fill(random);
        return SimulatedIdPrefix + Base64Url.EncodeToString(random);
    }

    private DeliveryBuilder AddMessage(string from, string? name, string messageId, long timestamp, string type, Action<Utf8JsonWriter> body)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(messageId);
        var change = _entries[^1].Changes[^1];
        if (name is not null && !change.Contacts.Any(c => c.WaId == from))
        {
            change.Contacts.Add((from, name));
        }
        change.Messages.Add(w =>
        {
            w.WriteStartObject();
            w.WriteString("from", from);
            w.WriteString("id", messageId);
            w.WriteString("timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            w.WriteString("type", type);
            body(w);
            w.WriteEndObject();
        });
        return this;
    }

    private static void WriteChange(Utf8JsonWriter w, ChangeData change)
    {
        w.WriteStartObject();
        w.WriteStartObject("value");
        w.WriteString("messaging_product", "whatsapp");
        w.WriteStartObject("metadata");
        w.WriteString("display_phone_number", "15550000000");
        w.WriteString("phone_number_id", change.PhoneNumberId);
        w.WriteEndObject();
        if (change.Contacts.Count > 0)
        {
            w.WriteStartArray("contacts");
            foreach (var (waId, name) in change.Contacts)
            {
                w.WriteStartObject();
                w.WriteStartObject("profile");
                w.WriteString("name", name);
                w.WriteEndObject();
                w.WriteString("wa_id", waId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        WriteArray(w, "messages", change.Messages);
        WriteArray(w, "statuses", change.Statuses);
        w.WriteEndObject();
        w.WriteString("field", "messages");
        w.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter w, string name, List<Action<Utf8JsonWriter>> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var item in items)
        {
            item(w);
        }
        w.WriteEndArray();
    }

    private sealed record EntryData(string BusinessAccountId)
    {
        public List<ChangeData> Changes { get; } = [];
    }

    private sealed record ChangeData(string PhoneNumberId)
    {
        public List<(string WaId, string Name)> Contacts { get; } = [];
        public List<Action<Utf8JsonWriter>> Messages { get; } = [];
        public List<Action<Utf8JsonWriter>> Statuses { get; } = [];
    }
}
