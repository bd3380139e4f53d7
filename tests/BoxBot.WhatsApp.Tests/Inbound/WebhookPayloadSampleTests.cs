using BoxBot.Contracts;
using static BoxBot.WhatsApp.Tests.Inbound.Samples;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>Each of Meta's published payload shapes becomes exactly the expected normalized event.</summary>
public class WebhookPayloadSampleTests
{
    private static WhatsAppEvent Message(string id, long timestamp, string type, string? name = "Sheena Nelson") => new()
    {
        Key = id,
        Kind = WhatsAppEvent.MessageKind,
        Id = id,
        PhoneNumberId = PhoneNumberId,
        Timestamp = timestamp,
        From = Sheena,
        Name = name,
        Type = type,
    };

    private static WhatsAppEvent Receipt(string id, string status, long timestamp, string phoneNumberId = PhoneNumberId) => new()
    {
        Key = $"status:{id}:{status}",
        Kind = WhatsAppEvent.StatusKind,
        Id = id,
        PhoneNumberId = phoneNumberId,
        Timestamp = timestamp,
        From = Sheena,
        Status = status,
    };

    private static WhatsAppEvent Single(string sample)
    {
        var delivery = Parse(Bytes(sample));
        Assert.That(delivery.Skipped, Is.Empty);
        Assert.That(delivery.Events, Has.Count.EqualTo(1));
        return delivery.Events[0];
    }

    [Test]
    public void Every_sample_parses_without_a_skipped_element_except_the_one_with_a_template_update()
    {
        Assert.That(Names.Count(), Is.GreaterThanOrEqualTo(20));
        foreach (var name in Names.Where(n => n != "several_entries_and_changes"))
        {
            var delivery = Parse(Bytes(name));
            Assert.That(delivery.Skipped, Is.Empty, name);
            Assert.That(delivery.Events, Has.Count.EqualTo(1), name);
        }
    }

    [Test]
    public void A_text_message_gives_its_body_sender_and_profile_name() =>
        Assert.That(Single("text"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", 1739321024, "text") with
        {
            Text = "Does it come in another color?",
        }));

    [Test]
    public void A_reply_names_the_quoted_message_in_ref_id() =>
        Assert.That(Single("reply_with_context"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", 1739321030, "text") with
        {
            Text = "Yes, that one please",
            RefId = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0OEJCMDgyMEM4RjI2RDIyMDIA",
        }));

    [Test]
    public void An_image_gives_its_media_id_mime_type_and_caption() =>
        Assert.That(Single("image"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJDRUZCNUM5RjA4MjE1QjdEAA==", 1739321040, "image") with
        {
            Text = "This is a caption",
            MediaId = "2754859441498128",
            MimeType = "image/jpeg",
        }));

    [Test]
    public void A_voice_message_gives_its_media_id_and_mime_type_and_no_text() =>
        Assert.That(Single("audio"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYxRTQ5QjMzNzdCNTQ0NjAwAA==", 1739321050, "audio") with
        {
            MediaId = "1003383421387256",
            MimeType = "audio/ogg; codecs=opus",
        }));

    [Test]
    public void A_document_gives_its_filename_and_caption() =>
        Assert.That(Single("document"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTNCQjdFMEMyRjdFQzBBNzNBAA==", 1739321060, "document") with
        {
            Text = "Lucky Shrub Invoice",
            MediaId = "1003383421387257",
            MimeType = "application/pdf",
            Filename = "lucky-shrub-invoice.pdf",
        }));

    [Test]
    public void A_sticker_is_media_without_text() =>
        Assert.That(Single("sticker"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUE0NjBFQTE0QUUyQjc1RjE0AA==", 1739321070, "sticker") with
        {
            MediaId = "1003383421387258",
            MimeType = "image/webp",
        }));

    [Test]
    public void A_button_reply_gives_the_button_id_and_title_and_the_message_it_answers() =>
        Assert.That(Single("interactive_button_reply"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUI3NkY4RDlCMzNFODg1QTJFAA==", 1739321080, "interactive") with
        {
            Text = "Approve",
            ReplyId = "approve-42",
            RefId = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCQTY1RkE3MUNBQ0U0NzJDRQA=",
        }));

    [Test]
    public void A_list_reply_gives_the_row_id_and_title() =>
        Assert.That(Single("interactive_list_reply"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQURFMTNGQ0ZDMzRCNzA4NTdCAA==", 1739321090, "interactive") with
        {
            Text = "Express Shipping",
            ReplyId = "priority_express",
            RefId = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QkE3MUJGNzUwQzQ2RjVCNEUA",
        }));

    [Test]
    public void A_template_quick_reply_gives_its_text_and_payload() =>
        Assert.That(Single("button"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUY3NTlFNDY2MjA2RDFCRjU4AA==", 1739321100, "button") with
        {
            Text = "Unsubscribe from Promos",
            ReplyId = "Unsubscribe from Promos",
            RefId = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QzE2RjQ3MDFCRUFCMzU1NjgA",
        }));

    [Test]
    public void A_reaction_gives_the_emoji_and_the_message_reacted_to() =>
        Assert.That(Single("reaction"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTk0QzI3QkY4OTdCRTJEQjk2AA==", 1739321110, "reaction") with
        {
            Text = "\U0001F44D",
            RefId = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
        }));

    [Test]
    public void A_removed_reaction_without_an_emoji_gives_empty_text() =>
        Assert.That(Single("reaction_removed"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTQ4NzM2NDY1QzM2RjlFNzNFAA==", 1739321120, "reaction") with
        {
            Text = "",
            RefId = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
        }));

    [Test]
    public void A_removed_reaction_with_an_empty_emoji_gives_empty_text() =>
        Assert.That(Parse(Delivery("""{"from":"16505551234","id":"wamid.R","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}}""")).Events[0].Text,
            Is.EqualTo(""));

    [Test]
    public void A_location_gives_coordinates_then_name_then_address_in_parentheses() =>
        Assert.That(Single("location"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUIyQjQyNkNFRjYzNDdCQjQ2AA==", 1739321130, "location") with
        {
            Text = "37.483307,-122.148981 Philz Coffee (1 Hacker Way, Menlo Park, CA 94025)",
        }));

    [TestCase("""{"latitude":52.5162746,"longitude":13.3777041}""", "52.5162746,13.3777041")]
    [TestCase("""{"latitude":-0.0,"longitude":0.123456789}""", "0,0.1234568")]
    [TestCase("""{"latitude":1e1,"longitude":-180,"address":"Somewhere"}""", "10,-180 (Somewhere)")]
    [TestCase("""{"latitude":90,"longitude":180,"name":"North","address":""}""", "90,180 North")]
    public void Location_text_is_invariant_and_leaves_out_what_is_missing(string location, string text) =>
        Assert.That(Parse(Delivery($$"""{"from":"16505551234","id":"wamid.L","timestamp":"1","type":"location","location":{{location}}}""")).Events[0].Text,
            Is.EqualTo(text));

    [Test]
    public void Shared_contacts_give_one_line_per_contact_with_its_phones() =>
        Assert.That(Single("contacts"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTJFNjQ5NzQxMDUyQ0I2NTlEAA==", 1739321140, "contacts") with
        {
            Text = "Barbara J. Johnson: +1 (940) 555-1234, +1 (650) 555-1234",
        }));

    [Test]
    public void A_system_message_has_no_contacts_so_no_name_and_gives_its_body() =>
        Assert.That(Single("system"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ4MkVGMzlCNzRFQjNGNzY1AA==", 1739321150, "system", name: null) with
        {
            Text = "User Sheena Nelson changed from 16505551234 to 12195555358",
        }));

    [Test]
    public void An_unsupported_message_keeps_its_type_and_nothing_else() =>
        Assert.That(Single("unsupported"), Is.EqualTo(Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUNGQ0E3NzE3NjNBNzA4QzU3AA==", 1739321160, "unsupported")));

    [TestCase("sent", 1739321200)]
    [TestCase("delivered", 1739321201)]
    [TestCase("read", 1739321209)]
    public void A_receipt_gives_the_outbound_message_id_status_and_recipient(string status, long timestamp) =>
        Assert.That(Single("status_" + status), Is.EqualTo(Receipt("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MUExMjM0NUJDNkQ3RTg5MEYA", status, timestamp)));

    [Test]
    public void A_failed_receipt_gives_the_first_errors_code_and_title() =>
        Assert.That(Single("status_failed"), Is.EqualTo(Receipt("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGMTIzNDU2Nzg5QUJDREVGMDEA", "failed", 1739321300) with
        {
            ErrorCode = 131047,
            ErrorTitle = "Re-engagement message",
        }));

    [Test]
    public void Several_entries_and_changes_give_their_events_in_order_each_with_its_own_number_and_name()
    {
        var delivery = Parse(Bytes("several_entries_and_changes"));

        Assert.That(delivery.Events, Is.EqualTo(new[]
        {
            Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDAxAA==", 1739321400, "text") with { Text = "first" },
            Message("wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNBMDAwMDAwMDAwMDAwMDAwMDAyAA==", 1739321401, "text") with
            {
                Text = "second",
                From = "4915112345678",
                Name = "Pablo Morales",
            },
            Receipt("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIwMDAwMDAwMDAwMDAwMDAwMDMA", "delivered", 1739321402, "106540352242923"),
            Message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTAwMDAwMDAwMDAwMDAwMDA0AA==", 1739321403, "text") with
            {
                Text = "third",
                PhoneNumberId = "106540352242924",
            },
        }));
        Assert.That(delivery.Skipped, Is.EqualTo(new[]
        {
            "entry[1].changes[0]: field \"message_template_status_update\" is not read (only \"messages\")",
        }));
    }
}
