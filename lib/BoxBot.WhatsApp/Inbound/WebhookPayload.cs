using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.WhatsApp.Inbound;

// TEMPORARY stand-in until the inbound branch lands (same API): text messages and statuses only.
public sealed record ParsedDelivery(IReadOnlyList<WhatsAppEvent> Events, IReadOnlyList<string> Skipped);

public static class WebhookPayload
{
    public static ParsedDelivery? Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8Json.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var events = new List<WhatsAppEvent>();
            if (doc.RootElement.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in entries.EnumerateArray())
                {
                    foreach (var change in entry.GetProperty("changes").EnumerateArray())
                    {
                        var value = change.GetProperty("value");
                        if (value.TryGetProperty("messages", out var messages))
                        {
                            foreach (var m in messages.EnumerateArray())
                            {
                                var id = m.GetProperty("id").GetString()!;
                                events.Add(new WhatsAppEvent
                                {
                                    Key = id,
                                    Kind = WhatsAppEvent.MessageKind,
                                    Id = id,
                                    From = m.GetProperty("from").GetString(),
                                    Type = m.GetProperty("type").GetString(),
                                    Text = m.TryGetProperty("text", out var t) ? t.GetProperty("body").GetString() : null,
                                    Timestamp = long.Parse(m.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                                });
                            }
                        }
                    }
                }
            }
            return new ParsedDelivery(events, []);
        }
    }
}
