using System.Text.Json;
using System.Text.Unicode;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound.Internal;

namespace BoxBot.WhatsApp.Inbound;

/// <summary>What one webhook delivery held: its events, in the order of the payload, and why anything was left out.</summary>
/// <param name="Events">Every well-formed message and status, normalized; at most <see cref="WebhookPayload.MaxEvents"/>.</param>
/// <param name="Skipped">
/// One line per element left out, naming where it was and why ("entry[0].changes[1].value.messages[2]: no id");
/// at most <see cref="WebhookPayload.MaxSkippedReasons"/> such lines, then summary lines. Untrusted values in it
/// are quoted, cut to 40 characters and reduced to printable ASCII, so it is fit for a log.
/// </param>
public sealed record ParsedDelivery(IReadOnlyList<WhatsAppEvent> Events, IReadOnlyList<string> Skipped);

/// <summary>
/// Parses a WhatsApp Cloud API webhook delivery (<c>{"object":"whatsapp_business_account","entry":[{"changes":[{"field":
/// "messages","value":{...}}]}]}</c>) into normalized <see cref="WhatsAppEvent"/>s. The body is untrusted: nothing here
/// throws on any input, every field is checked for its JSON type, and text is capped.
/// </summary>
/// <remarks>
/// <para>Normalization: phone numbers are digits only (<see cref="PhoneNumbers.Normalize"/>). The sender's name comes from
/// the <c>contacts[]</c> entry of the same change whose <c>wa_id</c> is the sender (the first such entry).</para>
/// <para>Per message type, <see cref="WhatsAppEvent.Text"/> is: <c>text.body</c>; for image, audio, video, document and
/// sticker the caption (plus <see cref="WhatsAppEvent.MediaId"/>, <see cref="WhatsAppEvent.MimeType"/> and, for
/// documents, <see cref="WhatsAppEvent.Filename"/>); for interactive button and list replies the title (the row or button
/// id in <see cref="WhatsAppEvent.ReplyId"/>); for a template quick reply (<c>button</c>) its text (its payload in
/// ReplyId); for a reaction the emoji, <c>""</c> when the reaction was removed (Meta then omits or empties
/// <c>emoji</c>), with the reacted-to message in <see cref="WhatsAppEvent.RefId"/>; for a location
/// <c>"LAT,LONG"</c> (invariant culture, at most 7 decimals), then <c>" NAME"</c> and <c>" (ADDRESS)"</c> when present,
/// e.g. <c>"52.5162746,13.3777041 Brandenburger Tor (Pariser Platz, 10117 Berlin)"</c>; for shared contacts one line
/// per contact, <c>"FORMATTED NAME: PHONE, PHONE"</c>; for a system message <c>system.body</c>. Other types
/// (unsupported, order, unknown ones) keep their type and carry no text. A quoted reply's <c>context.id</c> becomes
/// RefId unless the type already set it.</para>
/// <para>Caps: Text is cut at <see cref="MaxTextLength"/> characters, Name at <see cref="MaxNameLength"/>, MIME type,
/// filename and error title at <see cref="MaxFieldLength"/> (silently). Ids are never cut: a message or status id must
/// be 1..<see cref="MaxIdLength"/> characters of printable ASCII; media ids, quoted ids, reply ids and the
/// phone number id at most <see cref="MaxFieldLength"/> characters (media and phone number ids only letters, digits,
/// '.', '_' and '-', because the agent puts a media id into a Graph API URL); an element with an id that breaks these
/// is skipped. The type must be 1..64 characters of a-z, 0-9 and '_'. Timestamps must lie between 0 and year 9999.</para>
/// </remarks>
public static partial class WebhookPayload
{
    /// <summary>The only <c>object</c> read.</summary>
    public const string ObjectName = "whatsapp_business_account";

    /// <summary>Most events taken from one delivery; the rest are skipped with one reason.</summary>
    public const int MaxEvents = 1000;

    /// <summary>Most per-element lines in <see cref="ParsedDelivery.Skipped"/>; more are counted in one summary line.</summary>
    public const int MaxSkippedReasons = 100;

    public const int MaxTextLength = 65536;
    public const int MaxNameLength = 256;
    public const int MaxIdLength = 256;
    public const int MaxFieldLength = 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Returns null when the bytes are not valid UTF-8 JSON (one value, no comments, no trailing commas, no byte order
    /// mark, at most 64 levels deep), or the JSON is not an object: the daemon answers 400. Otherwise every well-formed
    /// message and status becomes an event, and each malformed element is skipped with a one-line reason.
    /// </summary>
    public static ParsedDelivery? Parse(ReadOnlySpan<byte> utf8Json)
    {
        // JsonDocument checks UTF-8 only when a string is read; checking all of it first keeps "not JSON" in one place.
        if (!Utf8.IsValid(utf8Json))
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), DocumentOptions);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var collector = new Collector();
            ReadDelivery(new Node(document.RootElement, ""), collector);
            return collector.ToDelivery();
        }
    }

    private static void ReadDelivery(Node root, Collector collector)
    {
        var r = new FieldReader("delivery");
        var kind = r.String(root, "object", MaxFieldLength, required: true);
        var entries = r.Array(root, "entry", required: true);
        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return;
        }

        if (kind != ObjectName)
        {
            collector.Skip($"delivery: object {FieldReader.Show(kind!)} is not {ObjectName}: nothing read");
            return;
        }

        var i = 0;
        foreach (var entry in entries!.Value.EnumerateArray())
        {
            ReadEntry(entry, $"entry[{i++}]", collector);
        }
    }

    private static void ReadEntry(JsonElement entry, string path, Collector collector)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            collector.Skip($"{path}: not an object");
            return;
        }

        var r = new FieldReader(path);
        if (r.Array(new Node(entry, ""), "changes", required: true) is not { } changes)
        {
            collector.Skip(r.Problem!);
            return;
        }

        var j = 0;
        foreach (var change in changes.EnumerateArray())
        {
            ReadChange(change, $"{path}.changes[{j++}]", collector);
        }
    }

    private static void ReadChange(JsonElement change, string path, Collector collector)
    {
        if (change.ValueKind != JsonValueKind.Object)
        {
            collector.Skip($"{path}: not an object");
            return;
        }

        var r = new FieldReader(path);
        var node = new Node(change, "");
        var field = r.String(node, "field", MaxFieldLength, required: true);
        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return;
        }

        if (field != "messages")
        {
            collector.Skip($"{path}: field {FieldReader.Show(field!)} is not read (only \"messages\")");
            return;
        }

        if (r.Object(node, "value", required: true) is not { } value)
        {
            collector.Skip(r.Problem!);
            return;
        }

        var metadata = r.Object(value, "metadata");
        var phoneNumberId = metadata is { } m ? r.Id(m, "phone_number_id", MaxFieldLength, IdChars.Token) : null;
        var messages = r.Array(value, "messages");
        var statuses = r.Array(value, "statuses");
        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return;
        }

        if (messages is null && statuses is null)
        {
            collector.Skip($"{path}: value has no messages and no statuses");
            return;
        }

        if (messages is { } messageArray)
        {
            var names = ReadNames(value, path, collector);
            var k = 0;
            foreach (var message in messageArray.EnumerateArray())
            {
                var at = $"{path}.value.messages[{k++}]";
                if (collector.Full)
                {
                    collector.CountOverLimit();
                    continue;
                }
                collector.Add(ReadMessage(message, at, phoneNumberId, names, collector));
            }
        }

        if (statuses is { } statusArray)
        {
            var k = 0;
            foreach (var status in statusArray.EnumerateArray())
            {
                var at = $"{path}.value.statuses[{k++}]";
                if (collector.Full)
                {
                    collector.CountOverLimit();
                    continue;
                }
                collector.Add(ReadStatus(status, at, phoneNumberId, collector));
            }
        }
    }

    /// <summary>The profile names in <c>value.contacts[]</c> by sender number; the first entry for a number wins.</summary>
    private static Dictionary<string, string> ReadNames(Node value, string path, Collector collector)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var r = new FieldReader(path);
        if (r.Array(value, "contacts") is not { } contacts)
        {
            if (r.Failed)
            {
                collector.Skip(r.Problem!);
            }
            return names;
        }

        var i = 0;
        foreach (var contact in contacts.EnumerateArray())
        {
            var at = $"{path}.value.contacts[{i++}]";
            if (contact.ValueKind != JsonValueKind.Object)
            {
                collector.Skip($"{at}: not an object");
                continue;
            }

            var c = new FieldReader(at);
            var node = new Node(contact, "");
            var waId = c.Phone(node, "wa_id", required: true);
            var name = c.Object(node, "profile") is { } profile ? c.String(profile, "name", MaxNameLength) : null;
            if (c.Failed)
            {
                collector.Skip(c.Problem!);
            }
            else if (name is not null)
            {
                names.TryAdd(waId!, name);
            }
        }
        return names;
    }

    /// <summary>Gathers events and skip reasons, and enforces the per-delivery caps on both.</summary>
    private sealed class Collector
    {
        private readonly List<WhatsAppEvent> _events = [];
        private readonly List<string> _skipped = [];
        private int _unlisted;
        private int _overLimit;

        /// <summary>True once <see cref="MaxEvents"/> events are in: later elements are counted, not read.</summary>
        public bool Full => _events.Count >= MaxEvents;

        public void Skip(string reason)
        {
            if (_skipped.Count < MaxSkippedReasons)
            {
                _skipped.Add(reason);
            }
            else
            {
                _unlisted++;
            }
        }

        public void Add(WhatsAppEvent? e)
        {
            if (e is not null)
            {
                _events.Add(e);
            }
        }

        public void CountOverLimit() => _overLimit++;

        public ParsedDelivery ToDelivery()
        {
            var skipped = new List<string>(_skipped);
            if (_overLimit > 0)
            {
                skipped.Add($"delivery: {_overLimit} more messages and statuses not read (at most {MaxEvents} events per delivery)");
            }
            if (_unlisted > 0)
            {
                skipped.Add($"delivery: {_unlisted} more elements skipped (only the first {MaxSkippedReasons} reasons are listed)");
            }
            return new ParsedDelivery(_events, skipped);
        }
    }
}
