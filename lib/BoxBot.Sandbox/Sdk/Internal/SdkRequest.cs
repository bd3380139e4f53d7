using System.Text.Json;

namespace BoxBot.Sandbox.Sdk.Internal;

/// <summary>One parsed request line. Parsing checks the envelope only; each method checks its own params.</summary>
internal sealed class SdkRequest : IDisposable
{
    private static readonly JsonDocumentOptions Options = new()
    {
        // Requests are flat; a deep document is an attack on the parser, not a call.
        MaxDepth = 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        // {"name":"A","name":"B"} must not mean one thing to a validator and another to a handler.
        AllowDuplicateProperties = false,
    };

    private static readonly JsonDocument EmptyObject = JsonDocument.Parse("{}");

    private readonly JsonDocument _document;

    private SdkRequest(JsonDocument document, long id, string method, JsonElement parameters)
    {
        _document = document;
        Id = id;
        Method = method;
        Params = parameters;
    }

    public long Id { get; }

    public string Method { get; }

    /// <summary>Always an object (an absent params member reads as <c>{}</c>).</summary>
    public JsonElement Params { get; }

    public void Dispose() => _document.Dispose();

    /// <summary>Parses a line; on failure returns null and sets the error reply (with the id when one could be read).</summary>
    public static SdkRequest? TryParse(ReadOnlyMemory<byte> line, out long? id, out int errorCode, out string error)
    {
        id = null;
        errorCode = 0;
        error = "";
        // JsonDocument checks UTF-8 only when a string is read; refuse it here, before any handler reads one.
        if (!System.Text.Unicode.Utf8.IsValid(line.Span))
        {
            errorCode = SdkErrorCodes.ParseError;
            error = "the request is not valid UTF-8";
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, Options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-name check unescapes names and meets a lone surrogate.
            errorCode = SdkErrorCodes.ParseError;
            error = "the request is not valid JSON (one UTF-8 JSON object per line)";
            return null;
        }

        var keep = false;
        try
        {
            var root = document.RootElement;
            if (!IsUnicode(root))
            {
                errorCode = SdkErrorCodes.ParseError;
                error = "the request escapes a lone surrogate (not valid Unicode)";
                return null;
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                errorCode = SdkErrorCodes.InvalidRequest;
                error = "the request must be a JSON object";
                return null;
            }

            if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var value))
            {
                id = value;
            }
            else
            {
                errorCode = SdkErrorCodes.InvalidRequest;
                error = "the request needs an integer \"id\"";
                return null;
            }

            JsonElement parameters = default;
            string? method = null;
            var version = false;
            foreach (var member in root.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "jsonrpc":
                        version = member.Value.ValueKind == JsonValueKind.String && member.Value.ValueEquals("2.0");
                        break;
                    case "id":
                        break;
                    case "method":
                        method = TryGetString(member.Value);
                        break;
                    case "params":
                        parameters = member.Value;
                        break;
                    default:
                        errorCode = SdkErrorCodes.InvalidRequest;
                        error = "the request has a member other than jsonrpc, id, method and params";
                        return null;
                }
            }

            if (!version)
            {
                errorCode = SdkErrorCodes.InvalidRequest;
                error = "the request needs \"jsonrpc\": \"2.0\"";
                return null;
            }

            if (method is null)
            {
                errorCode = SdkErrorCodes.InvalidRequest;
                error = "the request needs a string \"method\"";
                return null;
            }

            if (parameters.ValueKind == JsonValueKind.Undefined)
            {
                parameters = EmptyObject.RootElement;
            }
            else if (parameters.ValueKind != JsonValueKind.Object)
            {
                errorCode = SdkErrorCodes.InvalidParams;
                error = "\"params\" must be an object";
                return null;
            }

            keep = true;
            return new SdkRequest(document, value, method, parameters);
        }
        finally
        {
            if (!keep)
            {
                document.Dispose();
            }
        }
    }

    /// <summary>
    /// False when a string or member name escapes a lone surrogate ("\ud800"): JsonDocument accepts those,
    /// but GetString and Name throw on them, so they are refused once here. Depth is bounded by MaxDepth.
    /// </summary>
    private static bool IsUnicode(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Object:
                    foreach (var member in element.EnumerateObject())
                    {
                        if (member.Name is null || !IsUnicode(member.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!IsUnicode(item))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The string, or null when the element is not a string or escapes a lone surrogate (GetString would throw).</summary>
    public static string? TryGetString(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The id of a line, if it has one, for replies to lines that are refused before parsing matters.</summary>
    public static long? PeekId(ReadOnlySpan<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line.ToArray(), Options);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id", out var id)
                && id.ValueKind == JsonValueKind.Number
                && id.TryGetInt64(out var value) ? value : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
