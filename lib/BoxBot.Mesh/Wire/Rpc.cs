using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BoxBot.Mesh.Wire;

/// <summary>JSON-RPC 2.0 error codes on the mesh (the Device Connect reference's and the standard's).</summary>
public static class RpcCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>The device's function failed (<c>"Error invoking {fn}: …"</c>).</summary>
    public const int FunctionFailed = -32000;
}

/// <summary>
/// A JSON-RPC request as a device receives it on its <c>cmd</c> subject. As in the reference: a request without
/// <c>"id"</c> is a notification and gets no reply, an <c>"id": null</c> is echoed, a missing <c>params</c> is <c>{}</c>,
/// and <c>params._dc_meta</c> (who the caller says it is, written by the caller) is taken out before the function sees
/// the params: it is recorded, never trusted.
/// </summary>
public sealed class RpcRequest
{
    private RpcRequest(string? rawId, string method, string paramsJson, string? metaJson)
    {
        RawId = rawId;
        Method = method;
        ParamsJson = paramsJson;
        MetaJson = metaJson;
    }

    /// <summary>The id as raw JSON (<c>"abc"</c>, <c>5</c>, <c>null</c>), or null when the request has none (no reply).</summary>
    public string? RawId { get; }

    public string Method { get; }

    /// <summary>The params object without <c>_dc_meta</c>.</summary>
    public string ParamsJson { get; }

    /// <summary>The caller's <c>_dc_meta</c> object as raw JSON, or null.</summary>
    public string? MetaJson { get; }

    /// <summary>
    /// Reads a request. Returns the request, or the error to answer with (and the id to answer to, when one was read;
    /// null when the request must go unanswered).
    /// </summary>
    public static (RpcRequest? Request, RpcError? Error, string? ReplyId) Parse(ReadOnlySpan<byte> payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            return (null, new RpcError(RpcCodes.ParseError, "Parse error: the request is not JSON"), "null");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, new RpcError(RpcCodes.InvalidRequest, "Invalid Request: expected a JSON object"), "null");
            }
            string? id = null;
            if (root.TryGetProperty("id"u8, out var idElement))
            {
                if (idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
                {
                    return (null, new RpcError(RpcCodes.InvalidRequest, "Invalid Request: id must be a string, a number or null"), "null");
                }
                id = idElement.GetRawText();
            }
            if (!root.TryGetProperty("method"u8, out var methodElement) || methodElement.ValueKind != JsonValueKind.String)
            {
                return (null, new RpcError(RpcCodes.InvalidRequest, "Invalid Request: no method"), id);
            }
            var method = methodElement.GetString()!;
            if (!root.TryGetProperty("params"u8, out var parameters))
            {
                return (new RpcRequest(id, method, "{}", null), null, id);
            }
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                return (null, new RpcError(RpcCodes.InvalidParams, "Invalid params: params must be an object of named arguments"), id);
            }
            string? meta = null;
            var buffer = new ArrayBufferWriter<byte>(payload.Length);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                foreach (var property in parameters.EnumerateObject())
                {
                    if (property.NameEquals("_dc_meta"u8))
                    {
                        meta = property.Value.GetRawText();
                        continue;
                    }
                    property.WriteTo(w);
                }
                w.WriteEndObject();
            }
            return (new RpcRequest(id, method, Encoding.UTF8.GetString(buffer.WrittenSpan), meta), null, id);
        }
    }

    /// <summary>A request to send: <c>{"jsonrpc":"2.0","id","method","params"}</c>.</summary>
    public static byte[] Build(string id, string method, string paramsJson)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + paramsJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WriteString("id"u8, id);
            w.WriteString("method"u8, method);
            w.WritePropertyName("params"u8);
            w.WriteRawValue(paramsJson);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A notification (an event): <c>{"jsonrpc":"2.0","method","params"}</c>.</summary>
    public static byte[] Notification(string method, Action<Utf8JsonWriter> writeParams)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WriteString("method"u8, method);
            w.WriteStartObject("params"u8);
            writeParams(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A result reply: the result as it is, not wrapped (as the reference sends it).</summary>
    public static byte[] Result(string rawId, ReadOnlySpan<byte> resultJson)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + resultJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WritePropertyName("id"u8);
            w.WriteRawValue(rawId);
            w.WritePropertyName("result"u8);
            w.WriteRawValue(resultJson);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An error reply: <c>{"jsonrpc":"2.0","id","error":{"code","message"}}</c>.</summary>
    public static byte[] Error(string rawId, RpcError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WritePropertyName("id"u8);
            w.WriteRawValue(rawId);
            w.WriteStartObject("error"u8);
            w.WriteNumber("code"u8, error.Code);
            w.WriteString("message"u8, error.Message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>A JSON-RPC error.</summary>
public sealed record RpcError(int Code, string Message);

/// <summary>What a reply said: a result (raw JSON) or an error.</summary>
public sealed record RpcReply(string? ResultJson, RpcError? Error)
{
    /// <summary>Reads a reply; a reply that is neither is an <see cref="RpcError"/> of our own naming what was wrong.</summary>
    public static RpcReply Parse(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new RpcReply(null, new RpcError(RpcCodes.InternalError, "the device's reply is not a JSON object"));
            }
            if (root.TryGetProperty("error"u8, out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code"u8, out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : RpcCodes.InternalError;
                var message = error.TryGetProperty("message"u8, out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "(no message)";
                return new RpcReply(null, new RpcError(code, message));
            }
            return root.TryGetProperty("result"u8, out var result)
                ? new RpcReply(result.GetRawText(), null)
                : new RpcReply(null, new RpcError(RpcCodes.InternalError, "the device's reply has neither result nor error"));
        }
        catch (JsonException e)
        {
            return new RpcReply(null, new RpcError(RpcCodes.ParseError, "the device's reply is not JSON: " + e.Message));
        }
    }
}

/// <summary>Device Connect's two time formats.</summary>
public static class WireTime
{
    /// <summary><c>2026-01-15T12:00:00Z</c>: registrations, statuses and events.</summary>
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Seconds since the epoch with a fraction: heartbeats and presence.</summary>
    public static double Epoch(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;
}
