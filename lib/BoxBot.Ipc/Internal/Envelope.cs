using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Internal;

/// <summary>A request id as it appeared on the wire (raw JSON, echoed verbatim) plus a key for $/cancel lookups.</summary>
internal readonly record struct RequestId(string RawJson, string? Key)
{
    public static readonly RequestId Null = new("null", null);

    public static RequestId? From(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => new RequestId(element.GetRawText(), "s:" + element.GetString()),
        JsonValueKind.Number => new RequestId(element.GetRawText(), "n:" + element.GetRawText()),
        JsonValueKind.Null => Null,
        _ => null,
    };
}

/// <summary>A well-formed request. <see cref="Id"/> is null for notifications.</summary>
internal readonly record struct Request(string Method, RequestId? Id, JsonElement? Params);

/// <summary>Why a frame is not a request, and the id to answer with.</summary>
internal readonly record struct EnvelopeError(int Code, string Message, RequestId Id);

internal static class Envelope
{
    /// <summary>Parses a frame into a document that owns a copy of the bytes, so the frame buffer can be returned at once.</summary>
    public static JsonDocument ParseDocument(ReadOnlySpan<byte> payload)
    {
        // The reader does not check UTF-8 everywhere (property names are only checked when read as strings).
        if (!Utf8.IsValid(payload))
        {
            throw new JsonException("The frame is not valid UTF-8.");
        }
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
        var document = JsonDocument.ParseValue(ref reader);
        try
        {
            if (reader.Read())
            {
                throw new JsonException("Unexpected data after the JSON value.");
            }
        }
        catch
        {
            document.Dispose();
            throw;
        }
        return document;
    }

    public static bool TryReadRequest(JsonElement root, out Request request, out EnvelopeError error)
    {
        request = default;
        if (root.ValueKind == JsonValueKind.Array)
        {
            error = new(RpcErrorCodes.InvalidRequest, "batches are not supported", RequestId.Null);
            return false;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new(RpcErrorCodes.InvalidRequest, "a request must be a JSON object", RequestId.Null);
            return false;
        }

        JsonElement? version = null, id = null, method = null, parameters = null;
        foreach (var member in root.EnumerateObject())
        {
            // A repeated member could be read differently by different parsers; refuse it outright.
            ref var slot = ref version;
            switch (member.Name)
            {
                case "jsonrpc": slot = ref version; break;
                case "id": slot = ref id; break;
                case "method": slot = ref method; break;
                case "params": slot = ref parameters; break;
                default: continue;
            }
            if (slot is not null)
            {
                error = new(RpcErrorCodes.InvalidRequest, $"member '{member.Name}' appears more than once", RequestId.Null);
                return false;
            }
            slot = member.Value;
        }

        RequestId? requestId = null;
        if (id is { } idElement)
        {
            requestId = RequestId.From(idElement);
            if (requestId is null)
            {
                error = new(RpcErrorCodes.InvalidRequest, "id must be a string, a number or null", RequestId.Null);
                return false;
            }
        }
        var replyId = requestId ?? RequestId.Null;

        if (version is not { ValueKind: JsonValueKind.String } v || v.GetString() != "2.0")
        {
            error = new(RpcErrorCodes.InvalidRequest, "jsonrpc must be \"2.0\"", replyId);
            return false;
        }
        if (method is not { ValueKind: JsonValueKind.String } m)
        {
            error = new(RpcErrorCodes.InvalidRequest, "method must be a string", replyId);
            return false;
        }
        if (parameters is { ValueKind: not JsonValueKind.Object })
        {
            error = new(RpcErrorCodes.InvalidRequest, "params must be an object when present", replyId);
            return false;
        }

        request = new Request(m.GetString()!, requestId, parameters);
        error = default;
        return true;
    }

    /// <summary>A complete reply frame carrying <paramref name="resultJson"/> (already-serialized JSON).</summary>
    public static byte[] ResultFrame(RequestId id, ReadOnlySpan<byte> resultJson)
    {
        var buffer = new ArrayBufferWriter<byte>(resultJson.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, Framing.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(id.RawJson, skipInputValidation: true);
            writer.WritePropertyName("result"u8);
            writer.WriteRawValue(resultJson, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return Framing.Build(buffer.WrittenSpan);
    }

    public static byte[] ErrorFrame(RequestId id, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + message.Length);
        using (var writer = new Utf8JsonWriter(buffer, Framing.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(id.RawJson, skipInputValidation: true);
            writer.WriteStartObject("error"u8);
            writer.WriteNumber("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Framing.Build(buffer.WrittenSpan);
    }
}
