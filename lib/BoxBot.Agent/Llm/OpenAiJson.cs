using System.Text.Json;
using System.Text.Json.Serialization;

namespace BoxBot.Agent.Llm;

// OpenAI-style chat completions (POST /v1/chat/completions) as llama.cpp's server, Ollama and vLLM speak it: text and
// function tools, no streaming. Null properties are left out, except a message's content (below).

/// <summary>The request: <c>{"model","max_tokens","messages":[...],"tools":[...]}</c>.</summary>
internal sealed record OpenAiRequest
{
    [JsonPropertyName("model")] public required string Model { get; init; }

    // Not max_completion_tokens: OpenAI's newer name is not understood by every local server, the old one is.
    [JsonPropertyName("max_tokens")] public required int MaxTokens { get; init; }
    [JsonPropertyName("messages")] public required IReadOnlyList<OpenAiMessage> Messages { get; init; }
    [JsonPropertyName("tools")] public IReadOnlyList<OpenAiTool>? Tools { get; init; }
}

/// <summary>
/// <c>{"role":"system"|"user","content"}</c>, <c>{"role":"assistant","content","tool_calls":[...]}</c> or
/// <c>{"role":"tool","tool_call_id","content"}</c>.
/// </summary>
internal sealed record OpenAiMessage
{
    [JsonPropertyName("role")] public required string Role { get; init; }

    // Always written: an assistant message that only calls tools has "content": null, the documented form, and some
    // servers refuse a message without the property.
    [JsonPropertyName("content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; init; }

    [JsonPropertyName("tool_calls")] public IReadOnlyList<OpenAiToolCall>? ToolCalls { get; init; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }
}

internal sealed record OpenAiToolCall
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("type")] public string Type { get; init; } = "function";
    [JsonPropertyName("function")] public required OpenAiFunctionCall Function { get; init; }
}

internal sealed record OpenAiFunctionCall
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The arguments as JSON text (a string holding JSON, not an object).</summary>
    [JsonPropertyName("arguments")] public required string Arguments { get; init; }
}

internal sealed record OpenAiTool
{
    [JsonPropertyName("type")] public string Type { get; init; } = "function";
    [JsonPropertyName("function")] public required OpenAiFunction Function { get; init; }
}

internal sealed record OpenAiFunction
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("description")] public required string Description { get; init; }
    [JsonPropertyName("parameters")] public required JsonElement Parameters { get; init; }
}

/// <summary>The answer: <c>{"choices":[{"message":{"content","tool_calls"},"finish_reason"}],"usage":{"prompt_tokens","completion_tokens"}}</c>.</summary>
internal sealed record OpenAiResponse
{
    [JsonPropertyName("choices")] public IReadOnlyList<OpenAiChoice>? Choices { get; init; }
    [JsonPropertyName("usage")] public OpenAiUsage? Usage { get; init; }
}

internal sealed record OpenAiChoice
{
    [JsonPropertyName("message")] public OpenAiAnswerMessage? Message { get; init; }
    [JsonPropertyName("finish_reason")] public string? FinishReason { get; init; }
}

/// <summary>
/// The model's message. <see cref="Content"/> is usually a string or null, but some servers send an array of parts;
/// both are read.
/// </summary>
internal sealed record OpenAiAnswerMessage
{
    [JsonPropertyName("content")] public JsonElement? Content { get; init; }
    [JsonPropertyName("tool_calls")] public IReadOnlyList<OpenAiAnswerToolCall>? ToolCalls { get; init; }
}

internal sealed record OpenAiAnswerToolCall
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("function")] public OpenAiAnswerFunction? Function { get; init; }
}

/// <summary><see cref="Arguments"/> should be a string of JSON; some servers send the object itself, which is read too.</summary>
internal sealed record OpenAiAnswerFunction
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("arguments")] public JsonElement? Arguments { get; init; }
}

internal sealed record OpenAiUsage
{
    [JsonPropertyName("prompt_tokens")] public long? PromptTokens { get; init; }
    [JsonPropertyName("completion_tokens")] public long? CompletionTokens { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OpenAiRequest))]
[JsonSerializable(typeof(OpenAiResponse))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext
{
}
