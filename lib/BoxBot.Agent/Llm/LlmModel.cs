using System.Text.Json;

namespace BoxBot.Agent.Llm;

/// <summary>
/// The provider-neutral shape of one model call: what the conversation engine builds and what both wire formats
/// (Anthropic Messages, OpenAI chat completions) are translated from and to.
/// </summary>
public sealed record LlmRequest
{
    /// <summary>The system prompt.</summary>
    public required string System { get; init; }

    /// <summary>The conversation so far, oldest first; roles alternate user/assistant, starting with user.</summary>
    public required IReadOnlyList<LlmMessage> Messages { get; init; }

    public IReadOnlyList<LlmTool> Tools { get; init; } = [];

    public int MaxOutputTokens { get; init; } = 1024;
}

/// <summary>A tool the model may call: its name, what it does, and the JSON Schema of its input (an object).</summary>
public sealed record LlmTool(string Name, string Description, JsonElement InputSchema);

/// <summary>One message: role "user" or "assistant", and its blocks in order.</summary>
public sealed record LlmMessage(string Role, IReadOnlyList<LlmBlock> Content)
{
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>A piece of a message.</summary>
public abstract record LlmBlock;

/// <summary>Text: from a person (user) or the model's own notes (assistant).</summary>
public sealed record LlmText(string Text) : LlmBlock;

/// <summary>The model asks for a tool: <see cref="Id"/> ties the result to it.</summary>
public sealed record LlmToolUse(string Id, string Name, JsonElement Input) : LlmBlock;

/// <summary>A tool's result, sent back in a user message.</summary>
public sealed record LlmToolResult(string ToolUseId, string Content, bool IsError) : LlmBlock;

/// <summary>The model's answer.</summary>
public sealed record LlmResponse
{
    public required IReadOnlyList<LlmBlock> Content { get; init; }

    /// <summary>Why the model stopped: "end_turn", "tool_use", "max_tokens" (or the provider's word for it, mapped to these).</summary>
    public required string StopReason { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public const string EndTurn = "end_turn";
    public const string ToolUse = "tool_use";
    public const string MaxTokens = "max_tokens";
}

/// <summary>A language model behind some wire format.</summary>
public interface ILlmClient
{
    /// <summary>For logs and status: provider and model, never the key ("anthropic claude-sonnet-4-5").</summary>
    string Describe { get; }

    /// <summary>One call, with the client's own retries and timeouts.</summary>
    /// <exception cref="LlmException">The provider is unreachable, refused the request, or answered something unusable.</exception>
    Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken cancellationToken);
}

/// <summary>Why a model call failed, for the admin log. The message never contains the API key.</summary>
public sealed class LlmException(string message, bool retryable = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True for failures worth trying again later (unreachable, overloaded); false for misconfiguration.</summary>
    public bool Retryable { get; } = retryable;
}
