using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>What the builder writes is what Meta sends: Parse gives back exactly what was built, and it signs and verifies.</summary>
public class DeliveryBuilderTests
{
    private static readonly byte[] Secret = "simulated-app-secret"u8.ToArray();

    private static WhatsAppEvent Text(string id, string from, string? name, string text, long timestamp, string phoneNumberId = "111") => new()
    {
        Key = id,
        Kind = WhatsAppEvent.MessageKind,
        Id = id,
        PhoneNumberId = phoneNumberId,
        Timestamp = timestamp,
        From = from,
        Name = name,
        Type = "text",
        Text = text,
    };

    [Test]
    public void A_text_delivery_parses_back_to_what_was_built_even_with_hostile_characters()
    {
        var text = "Hällo \"quoted\" \\ </script> \u2028 \U0001F600\nnew line";
        var body = DeliveryBuilder.Text("111", "4915112345678", "Jürgen \"J\" Müller", text, "wamid.SIMabc", 1_739_321_024);

        var delivery = Samples.Parse(body);

        Assert.That(delivery.Events, Is.EqualTo(new[] { Text("wamid.SIMabc", "4915112345678", "Jürgen \"J\" Müller", text, 1_739_321_024) }));
        Assert.That(delivery.Skipped, Is.Empty);
    }

    [Test]
    public void A_text_without_a_name_has_no_contacts_entry_and_parses_without_a_name()
    {
        var body = DeliveryBuilder.Text("111", "4915112345678", null, "hi", "wamid.SIM1", 5);

        using var json = JsonDocument.Parse(body);
        Assert.That(json.RootElement.GetProperty("entry")[0].GetProperty("changes")[0].GetProperty("value").TryGetProperty("contacts", out _), Is.False);
        Assert.That(Samples.Parse(body).Events.Single().Name, Is.Null);
    }

    [Test]
    public void An_image_delivery_parses_back_to_its_media_id_mime_type_and_caption()
    {
        var body = DeliveryBuilder.Image("111", "16505551234", "Sheena", "2754859441498128", "image/jpeg", "a caption", "wamid.SIM2", 7);

        Assert.That(Samples.Parse(body).Events, Is.EqualTo(new[]
        {
            Text("wamid.SIM2", "16505551234", "Sheena", "a caption", 7) with { Type = "image", MediaId = "2754859441498128", MimeType = "image/jpeg" },
        }));
    }

    [Test]
    public void A_status_delivery_parses_back_to_its_receipt()
    {
        var body = DeliveryBuilder.Status("111", "wamid.OUT", "16505551234", "delivered", 9);

        Assert.That(Samples.Parse(body).Events, Is.EqualTo(new[]
        {
            new WhatsAppEvent
            {
                Key = "status:wamid.OUT:delivered",
                Kind = WhatsAppEvent.StatusKind,
                Id = "wamid.OUT",
                PhoneNumberId = "111",
                Timestamp = 9,
                From = "16505551234",
                Status = "delivered",
            },
        }));
    }

    [Test]
    public void Several_entries_changes_and_messages_parse_back_in_order()
    {
        var body = new DeliveryBuilder("111", "waba-1")
            .AddText("16505551234", "Sheena", "one", "wamid.1", 1)
            .AddText("4915112345678", "Pablo", "two", "wamid.2", 2)
            .AddText("16505551234", "Sheena again", "three", "wamid.3", 3)
            .AddStatus("wamid.OUT", "16505551234", "read", 4)
            .Change("222")
            .AddImage("16505551234", null, "42", "image/png", null, "wamid.4", 5)
            .Entry("333", "waba-2")
            .AddText("16505551234", "Other", "five", "wamid.5", 6)
            .Build();

        var delivery = Samples.Parse(body);

        Assert.That(delivery.Skipped, Is.Empty);
        Assert.That(delivery.Events, Is.EqualTo(new[]
        {
            Text("wamid.1", "16505551234", "Sheena", "one", 1),
            Text("wamid.2", "4915112345678", "Pablo", "two", 2),
            Text("wamid.3", "16505551234", "Sheena", "three", 3),
            new WhatsAppEvent { Key = "status:wamid.OUT:read", Kind = "status", Id = "wamid.OUT", PhoneNumberId = "111", Timestamp = 4, From = "16505551234", Status = "read" },
            Text("wamid.4", "16505551234", null, null!, 5, "222") with { Type = "image", MediaId = "42", MimeType = "image/png" },
            Text("wamid.5", "16505551234", "Other", "five", 6, "333"),
        }));
        using var json = JsonDocument.Parse(body);
        Assert.That(json.RootElement.GetProperty("entry").EnumerateArray().Select(e => e.GetProperty("id").GetString()), Is.EqualTo(new[] { "waba-1", "waba-2" }));
    }

    [Test]
    public void The_built_body_has_the_official_envelope_with_string_timestamps()
    {
        using var json = JsonDocument.Parse(DeliveryBuilder.Text("111", "16505551234", "S", "hi", "wamid.SIM3", 1_739_321_024));
        var root = json.RootElement;
        var change = root.GetProperty("entry")[0].GetProperty("changes")[0];
        var value = change.GetProperty("value");
        var message = value.GetProperty("messages")[0];

        Assert.That(root.GetProperty("object").GetString(), Is.EqualTo("whatsapp_business_account"));
        Assert.That(change.GetProperty("field").GetString(), Is.EqualTo("messages"));
        Assert.That(value.GetProperty("messaging_product").GetString(), Is.EqualTo("whatsapp"));
        Assert.That(value.GetProperty("metadata").GetProperty("phone_number_id").GetString(), Is.EqualTo("111"));
        Assert.That(value.GetProperty("contacts")[0].GetProperty("wa_id").GetString(), Is.EqualTo("16505551234"));
        Assert.That(message.GetProperty("timestamp").ValueKind, Is.EqualTo(JsonValueKind.String));
        Assert.That(message.GetProperty("timestamp").GetString(), Is.EqualTo("1739321024"));
        Assert.That(message.GetProperty("type").GetString(), Is.EqualTo("text"));
    }

    [Test]
    public void A_built_delivery_signs_and_verifies_and_fails_once_changed()
    {
        var body = DeliveryBuilder.Text("111", "16505551234", "S", "hi", DeliveryBuilder.NewMessageId(), 1);
        var header = WebhookSignature.Sign(body, Secret);

        Assert.That(WebhookSignature.Verify(body, header, Secret), Is.True);
        Assert.That(WebhookSignature.Verify(DeliveryBuilder.Text("111", "16505551234", "S", "hj", "wamid.X", 1), header, Secret), Is.False);
    }

    [Test]
    public void New_message_ids_are_unique_recognisably_simulated_and_valid_ids()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => DeliveryBuilder.NewMessageId()).ToList();

        Assert.That(ids.Distinct().Count(), Is.EqualTo(ids.Count));
        Assert.That(ids, Has.All.StartWith("wamid.SIM"));
        Assert.That(ids, Has.All.Length.EqualTo("wamid.SIM".Length + 32));
        Assert.That(ids.All(id => id["wamid.SIM".Length..].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')), Is.True);
        var id = ids[0];
        Assert.That(Samples.Parse(DeliveryBuilder.Text("111", "16505551234", null, "x", id, 1)).Events.Single().Key, Is.EqualTo(id));
    }
}
