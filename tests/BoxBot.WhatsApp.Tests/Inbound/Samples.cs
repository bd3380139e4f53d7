using System.Text;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>The sample deliveries under Inbound/Samples (copied next to the test assembly), and parsing helpers.</summary>
internal static class Samples
{
    public const string PhoneNumberId = "106540352242922";
    public const string Sheena = "16505551234";

    public static string Folder => Path.Combine(TestContext.CurrentContext.TestDirectory, "Inbound", "Samples");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Folder, name + ".json"));

    public static IEnumerable<string> Names =>
        Directory.GetFiles(Folder, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    /// <summary>Parses a delivery that must be valid JSON.</summary>
    public static ParsedDelivery Parse(byte[] body) =>
        WebhookPayload.Parse(body) ?? throw new AssertionException("Parse returned null for a JSON object");

    public static ParsedDelivery Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>A delivery with <paramref name="messages"/> (JSON array elements) in one change, in the official envelope.</summary>
    public static string Delivery(string messages, string? statuses = null, string contacts = """[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}]""") =>
        $$$"""
        {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783881","phone_number_id":"{{{PhoneNumberId}}}"},
          "contacts":{{{contacts}}},
          "messages":[{{{messages}}}]
          {{{(statuses is null ? "" : $",\"statuses\":[{statuses}]")}}}
        }}]}]}
        """;

    /// <summary>A text message with <paramref name="extra"/> JSON members added (or overriding, last one wins).</summary>
    public static string Message(string extra = "", string id = "wamid.A1", string type = "text") =>
        $$"""{"from":"16505551234","id":"{{id}}","timestamp":"1739321024","type":"{{type}}","text":{"body":"hi"}{{(extra.Length > 0 ? "," + extra : "")}}}""";

    /// <summary>The event <see cref="Message"/> gives when nothing is changed.</summary>
    public static WhatsAppEvent TextEvent(string id = "wamid.A1", string text = "hi") => new()
    {
        Key = id,
        Kind = WhatsAppEvent.MessageKind,
        Id = id,
        PhoneNumberId = PhoneNumberId,
        Timestamp = 1739321024,
        From = Sheena,
        Name = "Sheena Nelson",
        Type = "text",
        Text = text,
    };
}
