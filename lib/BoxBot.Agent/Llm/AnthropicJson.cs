using System.Text.Json;
using System.Text.Json.Serialization;

namespace BoxBot.Agent.Llm;

// Anthropic's Messages API (POST /v1/messages, anthropic-version 2023-06-01), as far as the box uses it: text, tool use
// and tool results, no streaming. Properties are written in declaration order, which is the order Anthropic documents;
// null ones are left out.

/// <summary>The request: <c>{"model","max_tokens","system","messages":[...],"tools":[...]}</c>.</summary>
internal sealed record AnthropicRequest
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("max_tokens")] public required int MaxTokens { get; init; }
    [JsonPropertyName("system")] public string? System { get; init; }
    [JsonPropertyName("messages")] public required IReadOnlyList<AnthropicMessage> Messages { get; init; }
    [JsonPropertyName("tools")] public IReadOnlyList<AnthropicTool>? Tools { get; init; }
}

internal sealed record AnthropicMessage
{
    [JsonPropertyName("role")] public required string Role { get; init; }
    [JsonPropertyName("content")] public required IReadOnlyList<AnthropicBlock> Content { get; init; }
}

/// <summary>
/// A content block we send, all kinds in one flat shape: <c>{"type":"text","text"}</c>, <c>{"type":"tool_use","id","name","input"}</c>,
/// <c>{"type":"tool_result","tool_use_id","content","is_error"}</c>. Flat, not polymorphic, because the kinds share no
/// field but <c>type</c> and the unset ones are left out.
/// </summary>
internal sealed record AnthropicBlock
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }
    [JsonPropertyName("tool_use_id")] public string? ToolUseId { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
    [JsonPropertyName("is_error")] public bool? IsError { get; init; }
}

internal sealed record AnthropicTool
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("description")] public required string Description { get; init; }
    [JsonPropertyName("input_schema")] public required JsonElement InputSchema { get; init; }
}

/// <summary>The answer: <c>{"id","type":"message","role","content":[...],"stop_reason","usage":{"input_tokens","output_tokens"}}</c>.</summary>
internal sealed record AnthropicResponse
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("content")] public IReadOnlyList<AnthropicAnswerBlock>? Content { get; init; }
    [JsonPropertyName("stop_reason")] public string? StopReason { get; init; }
    [JsonPropertyName("usage")] public AnthropicUsage? Usage { get; init; }
}

/// <summary>
/// A block of the answer. Only the fields of text and tool_use are read; other kinds (thinking, server tools) are
/// skipped, so their own fields, whatever their shape, must not be declared here.
/// </summary>
internal sealed record AnthropicAnswerBlock
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("input")] public JsonElement? Input { get; init; }
}

internal sealed record AnthropicUsage
{
    [JsonPropertyName("input_tokens")] public long? InputTokens { get; init; }
    [JsonPropertyName("output_tokens")] public long? OutputTokens { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AnthropicRequest))]
[JsonSerializable(typeof(AnthropicResponse))]
internal sealed partial class AnthropicJsonContext : JsonSerializerContext
{
}
