using System.Globalization;
using System.Text;
using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound.Internal;

namespace BoxBot.WhatsApp.Inbound;

public static partial class WebhookPayload
{
    private static readonly string[] ReceiptStatuses = ["sent", "delivered", "read", "failed"];

    private static WhatsAppEvent? ReadMessage(JsonElement message, string path, string? phoneNumberId,
        Dictionary<string, string> names, Collector collector)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            collector.Skip($"{path}: not an object");
            return null;
        }

        var r = new FieldReader(path);
        var m = new Node(message, "");
        var id = r.Id(m, "id", MaxIdLength, IdChars.Printable, required: true);
        var from = r.Phone(m, "from", required: true);
        var timestamp = r.Timestamp(m, "timestamp", required: true);
        var type = r.String(m, "type", MaxFieldLength, required: true);
        if (type is not null && !IsType(type))
        {
            r.Fail($"type {FieldReader.Show(type)} is not a message type");
        }
        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return null;
        }

        var e = new WhatsAppEvent
        {
            Key = id!,
            Kind = WhatsAppEvent.MessageKind,
            Id = id!,
            PhoneNumberId = phoneNumberId,
            Timestamp = timestamp!.Value,
            From = from,
            Name = names.GetValueOrDefault(from!),
            Type = type,
        };
        e = type! switch
        {
            "text" => e with { Text = r.Object(m, "text", required: true) is { } text ? r.String(text, "body", MaxTextLength, required: true) : null },
            "image" or "audio" or "video" or "document" or "sticker" => Media(r, m, type!, e),
            "interactive" => Interactive(r, m, e),
            "button" => r.Object(m, "button", required: true) is { } button
                ? e with { Text = r.String(button, "text", MaxTextLength), ReplyId = r.Id(button, "payload", MaxFieldLength, IdChars.Any) }
                : e,
            "reaction" => r.Object(m, "reaction", required: true) is { } reaction
                ? e with
                {
                    RefId = r.Id(reaction, "message_id", MaxFieldLength, IdChars.Printable, required: true),
                    Text = r.String(reaction, "emoji", MaxTextLength) ?? "",
                }
                : e,
            "location" => e with { Text = Location(r, m) },
            "contacts" => e with { Text = SharedContacts(r, m) },
            "system" => e with { Text = r.Object(m, "system") is { } system ? r.String(system, "body", MaxTextLength) : null },
            _ => e,
        };

        if (r.Object(m, "context") is { } context && r.Id(context, "id", MaxFieldLength, IdChars.Printable) is { } quoted)
        {
            e = e with { RefId = e.RefId ?? quoted };
        }

        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return null;
        }
        return e;
    }

    private static WhatsAppEvent Media(FieldReader r, Node m, string type, WhatsAppEvent e) =>
        r.Object(m, type, required: true) is { } media
            ? e with
            {
                MediaId = r.Id(media, "id", MaxFieldLength, IdChars.Token, required: true),
                MimeType = r.String(media, "mime_type", MaxFieldLength),
                Text = r.String(media, "caption", MaxTextLength),
                Filename = r.String(media, "filename", MaxFieldLength),
            }
            : e;

    /// <summary>A reply to an interactive message the box sent: the chosen button or list row. Other kinds keep only the type.</summary>
    private static WhatsAppEvent Interactive(FieldReader r, Node m, WhatsAppEvent e)
    {
        if (r.Object(m, "interactive", required: true) is not { } interactive)
        {
            return e;
        }

        var kind = r.String(interactive, "type", MaxFieldLength, required: true);
        return kind is "button_reply" or "list_reply" && r.Object(interactive, kind, required: true) is { } reply
            ? e with { ReplyId = r.Id(reply, "id", MaxFieldLength, IdChars.Any, required: true), Text = r.String(reply, "title", MaxTextLength) }
            : e;
    }

    /// <summary><c>"LAT,LONG"</c>, then <c>" NAME"</c> and <c>" (ADDRESS)"</c> when present.</summary>
    private static string? Location(FieldReader r, Node m)
    {
        if (r.Object(m, "location", required: true) is not { } location)
        {
            return null;
        }

        var latitude = r.Number(location, "latitude", -90, 90, required: true);
        var longitude = r.Number(location, "longitude", -180, 180, required: true);
        var name = r.String(location, "name", MaxTextLength);
        var address = r.String(location, "address", MaxTextLength);
        if (latitude is not { } lat || longitude is not { } lon)
        {
            return null;
        }

        var text = new StringBuilder().Append(Coordinate(lat)).Append(',').Append(Coordinate(lon));
        if (!string.IsNullOrEmpty(name))
        {
            text.Append(' ').Append(name);
        }
        if (!string.IsNullOrEmpty(address))
        {
            text.Append(" (").Append(address).Append(')');
        }
        return FieldReader.Truncate(text.ToString(), MaxTextLength);
    }

    // + 0.0 turns -0 into 0; 7 decimals are about a centimetre.
    private static string Coordinate(double degrees) => (degrees + 0.0).ToString("0.#######", CultureInfo.InvariantCulture);

    /// <summary>One line per shared contact: <c>"FORMATTED NAME: PHONE, PHONE"</c>.</summary>
    private static string? SharedContacts(FieldReader r, Node m)
    {
        if (r.Array(m, "contacts", required: true) is not { } contacts)
        {
            return null;
        }

        var lines = new List<string>();
        var i = 0;
        foreach (var contact in contacts.EnumerateArray())
        {
            var label = $"contacts[{i++}]";
            if (contact.ValueKind != JsonValueKind.Object)
            {
                r.Fail($"{label} is not an object");
                return null;
            }

            var node = new Node(contact, label + ".");
            var name = r.Object(node, "name") is { } n ? r.String(n, "formatted_name", MaxNameLength) : null;
            var phones = new List<string>();
            if (r.Array(node, "phones") is { } phoneArray)
            {
                var j = 0;
                foreach (var phone in phoneArray.EnumerateArray())
                {
                    var phoneLabel = $"{label}.phones[{j++}]";
                    if (phone.ValueKind != JsonValueKind.Object)
                    {
                        r.Fail($"{phoneLabel} is not an object");
                        return null;
                    }
                    if (r.String(new Node(phone, phoneLabel + "."), "phone", MaxFieldLength) is { } number)
                    {
                        phones.Add(number);
                    }
                }
            }
            lines.Add(phones.Count == 0 ? name ?? "" : $"{name}: {string.Join(", ", phones)}");
        }
        return r.Failed ? null : FieldReader.Truncate(string.Join('\n', lines), MaxTextLength);
    }

    private static WhatsAppEvent? ReadStatus(JsonElement status, string path, string? phoneNumberId, Collector collector)
    {
        if (status.ValueKind != JsonValueKind.Object)
        {
            collector.Skip($"{path}: not an object");
            return null;
        }

        var r = new FieldReader(path);
        var s = new Node(status, "");
        var id = r.Id(s, "id", MaxIdLength, IdChars.Printable, required: true);
        var state = r.String(s, "status", MaxFieldLength, required: true);
        var timestamp = r.Timestamp(s, "timestamp", required: true);
        // Receipts for group messages name a group here, not a number: the receipt still counts, without a number.
        var recipient = r.Phone(s, "recipient_id", lenient: true);
        int? errorCode = null;
        string? errorTitle = null;
        if (r.Array(s, "errors") is { } errors && errors.GetArrayLength() > 0)
        {
            if (errors[0].ValueKind != JsonValueKind.Object)
            {
                r.Fail("errors[0] is not an object");
            }
            else
            {
                var error = new Node(errors[0], "errors[0].");
                errorCode = r.Int32(error, "code");
                errorTitle = r.String(error, "title", MaxFieldLength);
            }
        }
        if (r.Failed)
        {
            collector.Skip(r.Problem!);
            return null;
        }

        if (!ReceiptStatuses.Contains(state!))
        {
            collector.Skip($"{path}: status {FieldReader.Show(state!)} is not read (only sent, delivered, read and failed)");
            return null;
        }

        return new WhatsAppEvent
        {
            Key = $"status:{id}:{state}",
            Kind = WhatsAppEvent.StatusKind,
            Id = id!,
            PhoneNumberId = phoneNumberId,
            Timestamp = timestamp!.Value,
            From = recipient,
            Status = state,
            ErrorCode = errorCode,
            ErrorTitle = errorTitle,
        };
    }

    private static bool IsType(string type) =>
        type.Length is > 0 and <= 64 && type.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}
