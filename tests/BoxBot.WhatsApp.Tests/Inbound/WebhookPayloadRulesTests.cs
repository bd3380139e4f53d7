using System.Text;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound;
using static BoxBot.WhatsApp.Tests.Inbound.Samples;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>The rules for untrusted deliveries: what is not JSON, what is skipped and why, and the caps.</summary>
public class WebhookPayloadRulesTests
{
    private const string Path0 = "entry[0].changes[0].value.messages[0]";

    private static ParsedDelivery One(string message) => Parse(Delivery(message));

    private static string OnlySkip(string message)
    {
        var delivery = One(message);
        Assert.That(delivery.Events, Is.Empty, "the malformed message must not become an event");
        Assert.That(delivery.Skipped, Has.Count.EqualTo(1));
        return delivery.Skipped[0];
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase("not json")]
    [TestCase("{")]
    [TestCase("{} x")]
    [TestCase("{}{}")]
    [TestCase("{\"object\":\"whatsapp_business_account\",}")]
    [TestCase("{/* a comment */}")]
    [TestCase("{'object':'x'}")]
    [TestCase("[]")]
    [TestCase("[{\"object\":\"whatsapp_business_account\"}]")]
    [TestCase("\"whatsapp_business_account\"")]
    [TestCase("5")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("\uFEFF{}")]
    public void What_is_not_a_json_object_gives_null(string body) =>
        Assert.That(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body)), Is.Null);

    [Test]
    public void Invalid_utf8_gives_null_even_inside_a_string() =>
        Assert.That(WebhookPayload.Parse([.. "{\"object\":\""u8, 0xC3, 0x28, .. "\"}"u8]), Is.Null);

    [Test]
    public void Nesting_deeper_than_64_levels_gives_null_and_64_levels_are_read()
    {
        // The root object and depth - 1 arrays inside it.
        static byte[] Nested(int depth) => Encoding.UTF8.GetBytes("{\"a\":" + string.Concat(Enumerable.Repeat("[", depth - 1)) + "1" +
            string.Concat(Enumerable.Repeat("]", depth - 1)) + ",\"object\":\"x\"}");

        Assert.That(WebhookPayload.Parse(Nested(65)), Is.Null);
        Assert.That(WebhookPayload.Parse(Nested(64)), Is.Not.Null);
    }

    [Test]
    public void An_empty_object_is_a_delivery_with_nothing_in_it() =>
        Assert.That(Parse("{}").Skipped, Is.EqualTo(new[] { "delivery: no object" }));

    [Test]
    public void Another_object_is_a_valid_delivery_with_no_events_and_a_reason()
    {
        var delivery = Parse(Delivery(Message()).Replace("whatsapp_business_account", "page", StringComparison.Ordinal));

        Assert.That(delivery.Events, Is.Empty);
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { "delivery: object \"page\" is not whatsapp_business_account: nothing read" }));
    }

    [Test]
    public void Untrusted_values_in_reasons_are_quoted_printable_ascii_and_short()
    {
        var field = "evil\r\nINFO forged log line \u001b[31m" + new string('x', 100);
        var delivery = Parse($$"""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":{{System.Text.Json.JsonSerializer.Serialize(field)}}}]}]}""");

        Assert.That(delivery.Skipped, Has.Count.EqualTo(1));
        Assert.That(delivery.Skipped[0], Does.StartWith("entry[0].changes[0]: field \"evil??INFO forged log line ?[31mxxx"));
        Assert.That(delivery.Skipped[0].All(c => c is >= ' ' and <= '~'), Is.True);
        Assert.That(delivery.Skipped[0], Has.Length.LessThan(120));
    }

    [TestCase("""{"object":"whatsapp_business_account"}""", "delivery: no entry")]
    [TestCase("""{"object":"whatsapp_business_account","entry":{}}""", "delivery: entry is not an array")]
    [TestCase("""{"object":5,"entry":[]}""", "delivery: object is not a string")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[5]}""", "entry[0]: not an object")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"id":"1"}]}""", "entry[0]: no changes")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[[]]}]}""", "entry[0].changes[0]: not an object")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{}}]}]}""", "entry[0].changes[0]: no field")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}""", "entry[0].changes[0]: no value")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":[]}]}]}""", "entry[0].changes[0]: value is not an object")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{}}]}]}""", "entry[0].changes[0]: value has no messages and no statuses")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":{}}}]}]}""", "entry[0].changes[0]: value.messages is not an array")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":"x"}}]}]}""", "entry[0].changes[0]: value.statuses is not an array")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":[],"messages":[]}}]}]}""", "entry[0].changes[0]: value.metadata is not an object")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"../me"},"messages":[]}}]}]}""", "entry[0].changes[0]: value.metadata.phone_number_id has characters an id may not have")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[7]}}]}]}""", "entry[0].changes[0].value.messages[0]: not an object")]
    [TestCase("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[null]}}]}]}""", "entry[0].changes[0].value.statuses[0]: not an object")]
    public void A_malformed_envelope_is_skipped_with_where_and_why(string json, string reason)
    {
        var delivery = Parse(json);

        Assert.That(delivery.Events, Is.Empty);
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { reason }));
    }

    [Test]
    public void A_malformed_message_is_skipped_and_its_neighbours_are_kept()
    {
        var delivery = Parse(Delivery(Message(id: "wamid.A1") + "," + Message("\"id\":null") + "," + Message(id: "wamid.A3")));

        Assert.That(delivery.Events.Select(e => e.Id), Is.EqualTo(new[] { "wamid.A1", "wamid.A3" }));
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { "entry[0].changes[0].value.messages[1]: no id" }));
    }

    [TestCase("\"id\":\"\"", "id is empty")]
    [TestCase("\"id\":5", "id is not a string")]
    [TestCase("\"id\":\"wamid. A\"", "id has characters an id may not have")]
    [TestCase("\"id\":\"wamid.\\nA\"", "id has characters an id may not have")]
    [TestCase("\"id\":\"wamid.\u00e9\"", "id has characters an id may not have")]
    [TestCase("\"from\":null", "no from")]
    [TestCase("\"from\":[\"16505551234\"]", "from is not a string")]
    [TestCase("\"from\":\"1650555123x\"", "from is not a phone number")]
    [TestCase("\"from\":\"\"", "from is not a phone number")]
    [TestCase("\"from\":\"+\"", "from is not a phone number")]
    [TestCase("\"from\":\"123456789012345678901\"", "from is not a phone number")]
    [TestCase("\"from\":\"\u0661\u0662\u0663\"", "from is not a phone number")]
    [TestCase("\"from\":-5", "from is not a phone number")]
    [TestCase("\"from\":1.5e10", "from is not a phone number")]
    [TestCase("\"timestamp\":{}", "timestamp is not a string")]
    [TestCase("\"timestamp\":\"\"", "timestamp is not a Unix time")]
    [TestCase("\"timestamp\":\"12 34\"", "timestamp is not a Unix time")]
    [TestCase("\"timestamp\":\"-1\"", "timestamp is not a Unix time")]
    [TestCase("\"timestamp\":\"1e9\"", "timestamp is not a Unix time")]
    [TestCase("\"timestamp\":\"99999999999999999999\"", "timestamp is not a Unix time")]
    [TestCase("\"timestamp\":\"253402300800\"", "timestamp is out of range")]
    [TestCase("\"timestamp\":-1", "timestamp is out of range")]
    [TestCase("\"timestamp\":1.5", "timestamp is not a Unix time")]
    [TestCase("\"type\":null", "no type")]
    [TestCase("\"type\":\"TEXT\"", "type \"TEXT\" is not a message type")]
    [TestCase("\"type\":\"te xt\"", "type \"te xt\" is not a message type")]
    [TestCase("\"type\":\"\"", "type \"\" is not a message type")]
    [TestCase("\"text\":5", "text is not an object")]
    [TestCase("\"text\":null", "no text")]
    [TestCase("\"text\":{}", "no text.body")]
    [TestCase("\"text\":{\"body\":[]}", "text.body is not a string")]
    [TestCase("\"text\":{\"body\":\"\\ud800\"}", "text.body is not a valid string")]
    [TestCase("\"context\":\"wamid.Q\"", "context is not an object")]
    [TestCase("\"context\":{\"id\":7}", "context.id is not a string")]
    public void A_message_with_a_missing_or_mistyped_field_is_skipped_with_the_field_named(string member, string reason) =>
        Assert.That(OnlySkip(Message(member)), Is.EqualTo($"{Path0}: {reason}"));

    [TestCase("image", """{"mime_type":"image/jpeg"}""", "no image.id")]
    [TestCase("image", """{"id":"12/../../me"}""", "image.id has characters an id may not have")]
    [TestCase("image", """{"id":".."}""", "image.id has characters an id may not have")]
    [TestCase("image", """{"id":"1","caption":5}""", "image.caption is not a string")]
    [TestCase("video", "[]", "video is not an object")]
    [TestCase("document", """{"id":"1","filename":{}}""", "document.filename is not a string")]
    [TestCase("interactive", """{"type":"button_reply"}""", "no interactive.button_reply")]
    [TestCase("interactive", """{"type":"list_reply","list_reply":{"title":"x"}}""", "no interactive.list_reply.id")]
    [TestCase("interactive", """{"button_reply":{"id":"x"}}""", "no interactive.type")]
    [TestCase("button", """{"text":1}""", "button.text is not a string")]
    [TestCase("reaction", """{"emoji":"x"}""", "no reaction.message_id")]
    [TestCase("reaction", """{"message_id":"wamid.X","emoji":false}""", "reaction.emoji is not a string")]
    [TestCase("location", """{"latitude":"52.5","longitude":13.4}""", "location.latitude is not a number")]
    [TestCase("location", """{"latitude":91,"longitude":13.4}""", "location.latitude is out of range")]
    [TestCase("location", """{"latitude":52.5}""", "no location.longitude")]
    [TestCase("location", """{"latitude":1e999,"longitude":0}""", "location.latitude is out of range")]
    [TestCase("contacts", """{"name":{}}""", "contacts is not an array")]
    [TestCase("contacts", """[5]""", "contacts[0] is not an object")]
    [TestCase("contacts", """[{"phones":[{"phone":5}]}]""", "contacts[0].phones[0].phone is not a string")]
    [TestCase("system", """{"body":[]}""", "system.body is not a string")]
    public void A_message_whose_type_specific_part_is_malformed_is_skipped(string type, string part, string reason) =>
        Assert.That(OnlySkip($$"""{"from":"16505551234","id":"wamid.T","timestamp":"1","type":"{{type}}","{{type}}":{{part}}}"""),
            Is.EqualTo($"{Path0}: {reason}"));

    [Test]
    public void Json_null_counts_as_missing_for_optional_fields()
    {
        var e = One("""{"from":"16505551234","id":"wamid.N","timestamp":"1","type":"image","image":{"id":"5","caption":null,"mime_type":null},"context":null}""").Events.Single();

        Assert.That((e.MediaId, e.Text, e.MimeType, e.RefId), Is.EqualTo(("5", (string?)null, (string?)null, (string?)null)));
    }

    [Test]
    public void A_sender_written_with_plus_and_separators_or_as_a_json_number_is_normalized_to_digits()
    {
        var delivery = Parse(Delivery(Message("\"from\":\"+1 (650) 555-1234\"", id: "wamid.1") + "," + Message("\"from\":16505551234", id: "wamid.2"),
            contacts: """[{"profile":{"name":"Sheena Nelson"},"wa_id":"+1 650 555 1234"}]"""));

        Assert.That(delivery.Events, Is.EqualTo(new[] { TextEvent("wamid.1"), TextEvent("wamid.2") }));
        Assert.That(delivery.Skipped, Is.Empty);
    }

    [Test]
    public void A_timestamp_may_be_a_json_number() =>
        Assert.That(One(Message("\"timestamp\":1739321024")).Events, Is.EqualTo(new[] { TextEvent() }));

    [Test]
    public void The_name_is_the_first_contact_entry_for_the_sender_and_no_entry_means_no_name()
    {
        var delivery = Parse(Delivery(Message(id: "wamid.1") + "," + Message("\"from\":\"4915112345678\"", id: "wamid.2"),
            contacts: """[{"profile":{"name":"Sheena"},"wa_id":"16505551234"},{"profile":{"name":"Impostor"},"wa_id":"16505551234"},{"wa_id":"4915112345678"}]"""));

        Assert.That(delivery.Events.Select(e => e.Name), Is.EqualTo(new[] { "Sheena", null }));
    }

    [Test]
    public void A_malformed_contact_entry_is_skipped_but_the_messages_are_kept_without_its_name()
    {
        var delivery = Parse(Delivery(Message(), contacts: """[{"profile":{"name":5},"wa_id":"16505551234"},{"profile":"x","wa_id":"1"},7]"""));

        Assert.That(delivery.Events, Is.EqualTo(new[] { TextEvent() with { Name = null } }));
        Assert.That(delivery.Skipped, Is.EqualTo(new[]
        {
            "entry[0].changes[0].value.contacts[0]: profile.name is not a string",
            "entry[0].changes[0].value.contacts[1]: profile is not an object",
            "entry[0].changes[0].value.contacts[2]: not an object",
        }));
    }

    [Test]
    public void Contacts_that_are_not_an_array_are_named_and_the_messages_are_kept()
    {
        var delivery = Parse(Delivery(Message(), contacts: "{}"));

        Assert.That(delivery.Events, Is.EqualTo(new[] { TextEvent() with { Name = null } }));
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { "entry[0].changes[0]: value.contacts is not an array" }));
    }

    [Test]
    public void A_reactions_own_message_id_wins_over_a_context_id()
    {
        var e = One("""{"from":"16505551234","id":"wamid.R","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.OWN","emoji":"x"},"context":{"id":"wamid.CTX"}}""").Events.Single();

        Assert.That(e.RefId, Is.EqualTo("wamid.OWN"));
    }

    [TestCase("order", """{"catalog_id":"1","product_items":[]}""")]
    [TestCase("unknown", """{}""")]
    [TestCase("a_type_from_the_future", """[1,2]""")]
    public void Other_types_keep_their_type_and_carry_no_text(string type, string part)
    {
        var e = One($$"""{"from":"16505551234","id":"wamid.O","timestamp":"1","type":"{{type}}","{{type}}":{{part}}}""").Events.Single();

        Assert.That((e.Type, e.Text, e.MediaId, e.ReplyId), Is.EqualTo((type, (string?)null, (string?)null, (string?)null)));
    }

    [Test]
    public void An_interactive_reply_of_another_kind_keeps_the_type_only()
    {
        var e = One("""{"from":"16505551234","id":"wamid.F","timestamp":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"body":"Sent","response_json":"{}"}}}""").Events.Single();

        Assert.That((e.Type, e.Text, e.ReplyId), Is.EqualTo(("interactive", (string?)null, (string?)null)));
    }

    [Test]
    public void Text_is_cut_at_65536_characters_and_never_inside_a_surrogate_pair()
    {
        var plain = new string('a', 70_000);
        var emoji = new string('a', WebhookPayload.MaxTextLength - 1) + "\U0001F600" + "tail";

        Assert.That(One(Message($"\"text\":{{\"body\":\"{plain}\"}}")).Events.Single().Text, Is.EqualTo(plain[..WebhookPayload.MaxTextLength]));
        Assert.That(One(Message($"\"text\":{{\"body\":\"{emoji}\"}}")).Events.Single().Text, Is.EqualTo(emoji[..(WebhookPayload.MaxTextLength - 1)]));
    }

    [Test]
    public void The_name_is_cut_at_256_characters_and_mime_type_and_filename_at_1024()
    {
        var name = new string('n', 300);
        var long2000 = new string('m', 2000);
        var e = Parse(Delivery($$$"""{"from":"16505551234","id":"wamid.D","timestamp":"1","type":"document","document":{"id":"9","mime_type":"{{{long2000}}}","filename":"{{{long2000}}}"}}""",
            contacts: $$"""[{"profile":{"name":"{{name}}"},"wa_id":"16505551234"}]""")).Events.Single();

        Assert.That((e.Name, e.MimeType, e.Filename), Is.EqualTo((name[..256], long2000[..1024], long2000[..1024])));
    }

    [Test]
    public void A_message_id_of_256_characters_is_read_and_one_of_257_is_skipped()
    {
        var id256 = "wamid." + new string('A', 250);

        Assert.That(One(Message(id: id256)).Events.Single().Key, Is.EqualTo(id256));
        Assert.That(OnlySkip(Message(id: id256 + "A")), Is.EqualTo($"{Path0}: id is over 256 characters"));
    }

    [TestCase("image", "\"image\":{\"id\":\"{0}\"}", "image.id")]
    [TestCase("reaction", "\"reaction\":{\"message_id\":\"{0}\"}", "reaction.message_id")]
    [TestCase("button", "\"button\":{\"payload\":\"{0}\"}", "button.payload")]
    [TestCase("text", "\"context\":{\"id\":\"{0}\"}", "context.id")]
    public void Other_ids_over_1024_characters_are_not_cut_but_skip_the_message(string type, string part, string label)
    {
        string Body(int length) => $$"""{"from":"16505551234","id":"wamid.I","timestamp":"1","type":"{{type}}","text":{"body":"x"},""" +
            part.Replace("{0}", new string('7', length), StringComparison.Ordinal) + "}";

        Assert.That(One(Body(1024)).Events, Has.Count.EqualTo(1));
        Assert.That(OnlySkip(Body(1025)), Is.EqualTo($"{Path0}: {label} is over 1024 characters"));
    }

    [Test]
    public void At_most_1000_events_are_taken_from_one_delivery_and_the_rest_is_one_reason()
    {
        var messages = string.Join(",", Enumerable.Range(0, 1003).Select(i => Message(id: $"wamid.M{i}")));
        var statuses = string.Join(",", Enumerable.Range(0, 2).Select(i => $$"""{"id":"wamid.S{{i}}","status":"read","timestamp":"1"}"""));

        var delivery = Parse(Delivery(messages, statuses));

        Assert.That(delivery.Events, Has.Count.EqualTo(WebhookPayload.MaxEvents));
        Assert.That(delivery.Events[^1].Id, Is.EqualTo("wamid.M999"));
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { "delivery: 5 more messages and statuses not read (at most 1000 events per delivery)" }));
    }

    [Test]
    public void At_most_100_skip_reasons_are_listed_and_the_rest_are_counted()
    {
        var delivery = Parse(Delivery(string.Join(",", Enumerable.Repeat("0", 150))));

        Assert.That(delivery.Skipped, Has.Count.EqualTo(WebhookPayload.MaxSkippedReasons + 1));
        Assert.That(delivery.Skipped[99], Is.EqualTo("entry[0].changes[0].value.messages[99]: not an object"));
        Assert.That(delivery.Skipped[^1], Is.EqualTo("delivery: 50 more elements skipped (only the first 100 reasons are listed)"));
    }

    [TestCase("""{"id":"wamid.S","status":"deleted","timestamp":"1"}""", "status \"deleted\" is not read (only sent, delivered, read and failed)")]
    [TestCase("""{"id":"wamid.S","status":"READ","timestamp":"1"}""", "status \"READ\" is not read (only sent, delivered, read and failed)")]
    [TestCase("""{"id":"wamid.S","timestamp":"1"}""", "no status")]
    [TestCase("""{"status":"read","timestamp":"1"}""", "no id")]
    [TestCase("""{"id":"wamid.S","status":"read"}""", "no timestamp")]
    [TestCase("""{"id":"wamid.S","status":"read","timestamp":"1","recipient_id":{}}""", "recipient_id is not a string")]
    [TestCase("""{"id":"wamid.S","status":"failed","timestamp":"1","errors":{}}""", "errors is not an array")]
    [TestCase("""{"id":"wamid.S","status":"failed","timestamp":"1","errors":["x"]}""", "errors[0] is not an object")]
    [TestCase("""{"id":"wamid.S","status":"failed","timestamp":"1","errors":[{"code":"131047"}]}""", "errors[0].code is not a number")]
    [TestCase("""{"id":"wamid.S","status":"failed","timestamp":"1","errors":[{"code":1e20}]}""", "errors[0].code is not a 32-bit integer")]
    [TestCase("""{"id":"wamid.S","status":"failed","timestamp":"1","errors":[{"code":1,"title":{}}]}""", "errors[0].title is not a string")]
    public void A_malformed_or_unknown_receipt_is_skipped_with_a_reason(string status, string reason)
    {
        var delivery = Parse($$$"""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{{{status}}}]}}]}]}""");

        Assert.That(delivery.Events, Is.Empty);
        Assert.That(delivery.Skipped, Is.EqualTo(new[] { $"entry[0].changes[0].value.statuses[0]: {reason}" }));
    }

    [Test]
    public void A_receipt_whose_recipient_is_not_a_number_is_kept_without_one()
    {
        var delivery = Parse("""{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.S","status":"read","timestamp":"7","recipient_id":"group-1203634"}]}}]}]}""");

        Assert.That(delivery.Events, Is.EqualTo(new[]
        {
            new WhatsAppEvent { Key = "status:wamid.S:read", Kind = "status", Id = "wamid.S", Timestamp = 7, Status = "read" },
        }));
    }

    [Test]
    public void Messages_and_receipts_of_one_change_come_messages_first()
    {
        var delivery = Parse(Delivery(Message(), """{"id":"wamid.S","status":"sent","timestamp":"5","recipient_id":"16505551234"}"""));

        Assert.That(delivery.Events.Select(e => e.Key), Is.EqualTo(new[] { "wamid.A1", "status:wamid.S:sent" }));
    }
}
