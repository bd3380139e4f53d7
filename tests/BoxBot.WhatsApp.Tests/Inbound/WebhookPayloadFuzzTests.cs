using System.Text;
using System.Text.Json.Nodes;
using BoxBot.Contracts;
using BoxBot.WhatsApp.Inbound;

namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>
/// Parse is fed every sample mutated at every node (keys dropped, types swapped, nulls, huge and broken strings, arrays
/// for objects) and byte-level damage: it never throws, and whatever it returns still keeps the promises of its events.
/// </summary>
public class WebhookPayloadFuzzTests
{
    private static readonly string Huge = new('x', 100_000);

    private static readonly Func<JsonNode?, JsonNode?>[] Replacements =
    [
        _ => null,
        _ => JsonValue.Create(5),
        _ => JsonValue.Create(-1.5e300),
        _ => JsonValue.Create(""),
        _ => JsonValue.Create(true),
        _ => JsonValue.Create(Huge),
        _ => JsonValue.Create("\u202Ewamid.\u0000\n\U0001F600"),
        _ => new JsonObject(),
        _ => new JsonArray(),
        n => new JsonArray(n?.DeepClone()),
        n => new JsonObject { ["id"] = n?.DeepClone() },
    ];

    public static IEnumerable<string> SampleNames => Samples.Names;

    [TestCaseSource(nameof(SampleNames))]
    public void Every_node_of_a_sample_dropped_or_replaced_never_makes_parse_throw(string sample)
    {
        var original = JsonNode.Parse(Samples.Bytes(sample))!;
        var mutations = 0;
        foreach (var path in Paths(original))
        {
            var where = string.Join('/', path);
            foreach (var replace in Replacements)
            {
                Check(Mutate(original, path, n => (true, replace(n))), sample, where);
                mutations++;
            }
            Check(Mutate(original, path, _ => (false, null)), sample, where);
            mutations++;
        }

        Assert.That(mutations, Is.GreaterThan(100), "the walk reached the sample's nodes");
    }

    [TestCaseSource(nameof(SampleNames))]
    public void Random_byte_damage_never_makes_parse_throw(string sample)
    {
        var bytes = Samples.Bytes(sample);
        var random = new Random(sample.GetHashCode(StringComparison.Ordinal) ^ 20250101);
        for (var round = 0; round < 500; round++)
        {
            var damaged = (byte[])bytes.Clone();
            switch (round % 4)
            {
                case 0:
                    damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    damaged = damaged[..random.Next(damaged.Length)];
                    break;
                case 2:
                    var at = random.Next(damaged.Length);
                    damaged = [.. damaged[..at], .. "\"\\ud83d\""u8, .. damaged[at..]];
                    break;
                default:
                    const string structural = "{}[]\",:0\\";
                    for (var i = 0; i < 8; i++)
                    {
                        damaged[random.Next(damaged.Length)] = (byte)structural[random.Next(structural.Length)];
                    }
                    break;
            }
            Check(damaged, sample, $"round {round}");
        }
    }

    [Test]
    public void Deep_and_wide_hostile_shapes_never_make_parse_throw()
    {
        string[] bodies =
        [
            "{\"object\":\"whatsapp_business_account\",\"entry\":[" + string.Join(",", Enumerable.Repeat("{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[[],{},null]}}]}", 5000)) + "]}",
            "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":" +
                string.Concat(Enumerable.Repeat("[", 60)) + string.Concat(Enumerable.Repeat("]", 60)) + "}}]}]}",
            "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"contacts\":[" +
                string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"{{\"wa_id\":\"{i}\",\"profile\":{{\"name\":\"n\"}}}}")) + "],\"messages\":[]}}]}]}",
            "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[{\"from\":\"1\",\"id\":\"x\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"" +
                string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 40_000)) + "\"}}]}}]}]}",
        ];
        foreach (var body in bodies)
        {
            Check(Encoding.UTF8.GetBytes(body), "hostile", body[..60]);
        }
    }

    private static void Check(byte[] body, string sample, string where)
    {
        ParsedDelivery? delivery = null;
        Assert.DoesNotThrow(() => delivery = WebhookPayload.Parse(body), $"{sample} at {where}");
        if (delivery is null)
        {
            return;
        }

        Assert.That(delivery.Events, Has.Count.LessThanOrEqualTo(WebhookPayload.MaxEvents));
        Assert.That(delivery.Skipped, Has.Count.LessThanOrEqualTo(WebhookPayload.MaxSkippedReasons + 2));
        foreach (var e in delivery.Events)
        {
            Assert.That(e.Id, Has.Length.InRange(1, WebhookPayload.MaxIdLength), $"{sample} at {where}");
            Assert.That(e.Id.All(c => c is > ' ' and <= '~'), Is.True, $"{sample} at {where}: id {e.Id}");
            Assert.That(e.Kind is WhatsAppEvent.MessageKind or WhatsAppEvent.StatusKind, Is.True);
            Assert.That(e.Key, Is.EqualTo(e.Kind == WhatsAppEvent.MessageKind ? e.Id : $"status:{e.Id}:{e.Status}"));
            Assert.That(e.From is null || (e.From.Length is >= 1 and <= PhoneNumbers.MaxDigits && e.From.All(char.IsAsciiDigit)), Is.True, $"{sample} at {where}: from {e.From}");
            Assert.That(e.Text?.Length ?? 0, Is.LessThanOrEqualTo(WebhookPayload.MaxTextLength));
            Assert.That(e.Name?.Length ?? 0, Is.LessThanOrEqualTo(WebhookPayload.MaxNameLength));
            Assert.That(e.MediaId is null || e.MediaId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'), Is.True);
            Assert.That(e.Timestamp, Is.InRange(0, 253_402_300_799));
            if (e.Kind == WhatsAppEvent.StatusKind)
            {
                Assert.That(e.Status, Is.AnyOf("sent", "delivered", "read", "failed"));
            }
        }
        foreach (var reason in delivery.Skipped)
        {
            Assert.That(reason.All(c => c is >= ' ' and <= '~'), Is.True, $"{sample} at {where}: reason {reason}");
        }
    }

    /// <summary>Every node's path from the root, as property names and array indexes.</summary>
    private static List<object[]> Paths(JsonNode root)
    {
        var paths = new List<object[]>();
        void Walk(JsonNode? node, object[] path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (name, child) in o)
                    {
                        object[] p = [.. path, name];
                        paths.Add(p);
                        Walk(child, p);
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        object[] p = [.. path, i];
                        paths.Add(p);
                        Walk(a[i], p);
                    }
                    break;
            }
        }
        Walk(root, []);
        return paths;
    }

    /// <summary>A copy of <paramref name="root"/> with the node at <paramref name="path"/> replaced, or dropped when the function says so.</summary>
    private static byte[] Mutate(JsonNode root, object[] path, Func<JsonNode?, (bool Keep, JsonNode? With)> change)
    {
        var copy = root.DeepClone();
        var parent = copy;
        foreach (var step in path[..^1])
        {
            parent = step is string name ? parent![name] : parent![(int)step];
        }

        var last = path[^1];
        var current = last is string key ? parent![key] : parent![(int)last];
        var (keep, with) = change(current);
        switch (parent, last)
        {
            case (JsonObject o, string k) when keep:
                o[k] = with;
                break;
            case (JsonObject o, string k):
                o.Remove(k);
                break;
            case (JsonArray a, int i) when keep:
                a[i] = with;
                break;
            case (JsonArray a, int i):
                a.RemoveAt(i);
                break;
        }
        return Encoding.UTF8.GetBytes(copy.ToJsonString());
    }
}
