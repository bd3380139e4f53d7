using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BoxBot.Bench.Webhook;

/// <summary>
/// One set of requests for deliveries.lua: whole HTTP requests of one length, split over one file per wrk thread
/// (<c>Path.0</c>, <c>Path.1</c>, ...).
/// </summary>
internal sealed record RequestSet(string Path, int RequestBytes, int Count);

/// <summary>What every run sends.</summary>
/// <param name="Valid">Unique deliveries, each new to the webhook, so each is written to the spool (the nginx runs send these too).</param>
/// <param name="Warm">Another set of unique deliveries, sent in the warm-up and then again as duplicates.</param>
/// <param name="Forged">Deliveries signed with another secret.</param>
/// <param name="Unsigned">Deliveries without a signature header.</param>
/// <param name="SignedArray">Each delivery wrapped in a JSON array and signed: well-formed JSON, but not an object (400).</param>
internal sealed record RequestSets(RequestSet Valid, RequestSet Warm, RequestSet Forged, RequestSet Unsigned, RequestSet SignedArray, int BodyBytes);

/// <summary>
/// Writes the requests: official-shape text deliveries (compact JSON, as Meta sends them), signed with the app secret
/// (HMAC-SHA256 of the exact body bytes, <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>) or not, into
/// <paramref name="folder"/>, split for <paramref name="threads"/> wrk threads.
/// </summary>
internal sealed class Deliveries(string folder, int threads, string appSecret)
{
    /// <summary>The deliveries come from this many people (the rate limits are out of the way anyway).</summary>
    private const int Senders = 50;

    /// <summary>Sets whose requests never change the webhook's state can repeat: this many distinct ones is plenty.</summary>
    private const int Repeating = 20_000;

    /// <summary>Few enough that the 2 s warm-up sends each at least once, so all are duplicates when sent again.</summary>
    private const int WarmUp = 5_000;

    private readonly byte[] _key = Encoding.UTF8.GetBytes(appSecret);
    private readonly long _timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary><paramref name="unique"/> valid deliveries, fewer of the others.</summary>
    public RequestSets WriteAll(int unique, string otherSecret)
    {
        Directory.CreateDirectory(folder);
        var other = Encoding.UTF8.GetBytes(otherSecret);
        return new RequestSets(
            Valid: WriteSet("valid", unique, i => Request(Body(i, "valid"), _key)),
            Warm: WriteSet("warm", WarmUp, i => Request(Body(i, "warmx"), _key)),
            Forged: WriteSet("forged", Repeating, i => Request(Body(i, "valid"), other)),
            Unsigned: WriteSet("unsigned", Repeating, i => Request(Body(i, "valid"), null)),
            SignedArray: WriteSet("array", Repeating, i => Request([(byte)'[', .. Body(i, "valid"), (byte)']'], _key)),
            BodyBytes: Body(0, "valid").Length);
    }

    /// <summary>One valid signed delivery, unique by <paramref name="set"/> and <paramref name="i"/>, as a whole HTTP request.</summary>
    public byte[] ValidRequest(int i, string set) => Request(Body(i, set), _key);

    private RequestSet WriteSet(string name, int count, Func<int, byte[]> request)
    {
        var path = Path.Combine(folder, name);
        var size = request(0).Length;
        for (var t = 0; t < threads; t++)
        {
            // Thread t sends its own contiguous share: no delivery is sent by two threads.
            using var file = new FileStream($"{path}.{t}", FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            for (var i = (int)((long)count * t / threads); i < (long)count * (t + 1) / threads; i++)
            {
                var bytes = request(i);
                if (bytes.Length != size)
                {
                    throw new BenchException($"request {i} of the set {name} is {bytes.Length} bytes, not {size}: deliveries.lua needs one length per set");
                }
                file.Write(bytes);
            }
        }
        return new RequestSet(path, size, count);
    }

    /// <summary>The whole request as a client like Meta's sends it; the Host header is the same for both servers.</summary>
    private byte[] Request(byte[] body, byte[]? key)
    {
        var head = new StringBuilder("POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n");
        if (key is not null)
        {
            head.Append("X-Hub-Signature-256: sha256=").Append(Convert.ToHexStringLower(HMACSHA256.HashData(key, body))).Append("\r\n");
        }
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    /// <summary>What Meta sends for one text message; every field has a fixed width, so every body in a set is the same size.</summary>
    private byte[] Body(int i, string set)
    {
        var from = "49151" + (1_000_000 + i % Senders).ToString(CultureInfo.InvariantCulture);
        var id = $"wamid.HBgNbench{set}{i:D8}FQIAEhgUM0VCMDQ3";
        return Encoding.UTF8.GetBytes(
            "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\","
            + "\"metadata\":{\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"
            + $"\"contacts\":[{{\"profile\":{{\"name\":\"Bench Person {i % Senders:D2}\"}},\"wa_id\":\"{from}\"}}],"
            + $"\"messages\":[{{\"from\":\"{from}\",\"id\":\"{id}\",\"timestamp\":\"{_timestamp}\","
            + $"\"text\":{{\"body\":\"Benchmark message {i:D8}: is the box still fast when many people write at once?\"}},\"type\":\"text\"}}]}},"
            + "\"field\":\"messages\"}]}]}");
    }
}
