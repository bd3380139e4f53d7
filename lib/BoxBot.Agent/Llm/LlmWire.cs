using System.Text;
using System.Text.Json;

namespace BoxBot.Agent.Llm;

/// <summary>Small pieces both wire formats use.</summary>
internal static class LlmWire
{
    /// <summary>The key an <see cref="LlmToolUse.Input"/> holds when the model's arguments were not a JSON object.</summary>
    public const string InvalidArgumentsKey = "_invalid_arguments";

    private static readonly JsonElement EmptyObject = Parse("{}");

    /// <summary>The role as the wire writes it; the engine only ever builds these two.</summary>
    public static string Role(string role) => role is LlmMessage.User or LlmMessage.Assistant
        ? role
        : throw new ArgumentException($"a message has the role \"{role}\"; only \"user\" and \"assistant\" exist", nameof(role));

    /// <summary>A JSON value to send; an unset element (<c>default(JsonElement)</c>) is sent as <c>{}</c> rather than failing the call.</summary>
    public static JsonElement Object(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? EmptyObject : value;

    /// <summary>
    /// A tool input standing for arguments that were not a JSON object: <c>{"_invalid_arguments":"the text"}</c>. No tool
    /// declares that property, so the engine's input check refuses the call and tells the model what it sent.
    /// </summary>
    public static JsonElement InvalidArguments(string text)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(InvalidArgumentsKey, text);
            writer.WriteEndObject();
        }

        return Parse(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>The stop reason for a word this code does not know: a tool call if the model asked for one, else the end of its turn.</summary>
    public static string Fallback(IReadOnlyList<LlmBlock> blocks) =>
        blocks.Any(b => b is LlmToolUse) ? LlmResponse.ToolUse : LlmResponse.EndTurn;

    /// <summary>An element that outlives the document it came from.</summary>
    public static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}

/// <summary>Where each wire format posts, from the configured base URL.</summary>
internal static class LlmEndpoints
{
    /// <summary><c>{base}/v1/messages</c>; a base that already ends in <c>/v1</c> is not doubled.</summary>
    public static Uri Anthropic(Uri baseUrl) => Under(baseUrl, "messages");

    /// <summary><c>{base}/v1/chat/completions</c>; a base that already ends in <c>/v1</c> (Ollama's documented form) is not doubled.</summary>
    public static Uri OpenAi(Uri baseUrl) => Under(baseUrl, "chat/completions");

    private static Uri Under(Uri baseUrl, string path)
    {
        var root = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(root.EndsWith("/v1", StringComparison.Ordinal) ? $"{root}/{path}" : $"{root}/v1/{path}");
    }
}
