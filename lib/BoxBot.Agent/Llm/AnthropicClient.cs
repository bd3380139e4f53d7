using System.Text.Json;
using BoxBot.Config;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Llm;

/// <summary>
/// Anthropic's Messages API over <see cref="HttpClient"/> and source-generated JSON. Not the official <c>Anthropic</c>
/// package: its JSON is reflection-based (thousands of trim and AOT warnings, and a Native AOT build fails at the first
/// call; docs/agent.md has the details), and the agent is a Native AOT binary.
/// </summary>
public sealed class AnthropicClient : ILlmClient, IDisposable
{
    /// <summary>The API version every request names (<c>anthropic-version</c>); the wire format below is that version's.</summary>
    public const string ApiVersion = "2023-06-01";

    private readonly LlmHttp _http;
    private readonly string _model;

    /// <param name="options">Model, endpoint and the timeout of one try.</param>
    /// <param name="apiKey">The credential <c>llm-api-key</c>; sent in the <c>x-api-key</c> header only, never written to a message or a log.</param>
    /// <param name="logger">Receives a warning per retry and a debug line per call.</param>
    /// <param name="delay">Waits between tries (tests pass one that records and returns at once); default <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</param>
    /// <param name="handler">The HTTP handler; null for one that follows no redirects.</param>
    /// <exception cref="ArgumentException">No model, or a key that is empty or cannot go in a header (the message does not quote it).</exception>
    public AnthropicClient(LlmOptions options, string apiKey, ILogger? logger = null, Func<TimeSpan, CancellationToken, Task>? delay = null,
        HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentException.ThrowIfNullOrEmpty(options.Model, nameof(options));
        if (apiKey.Length == 0)
        {
            throw new ArgumentException("the credential llm-api-key is empty: Anthropic's API needs a key", nameof(apiKey));
        }

        if (!LlmHttp.IsHeaderSafe(apiKey))
        {
            throw new ArgumentException(LlmClients.UnusableKey, nameof(apiKey));
        }

        _model = options.Model;
        Describe = $"anthropic {options.Model}";
        _http = new LlmHttp(LlmEndpoints.Anthropic(options.BaseUrl ?? LlmOptions.AnthropicBaseUrl), Describe, options.Model,
            options.Timeout, apiKey, headers =>
            {
                headers.Add("x-api-key", apiKey);
                headers.Add("anthropic-version", ApiVersion);
            }, logger, delay, handler);
    }

    public string Describe { get; }

    /// <summary>Where calls are posted: <c>{base_url}/v1/messages</c>.</summary>
    public Uri Endpoint => _http.Endpoint;

    public async Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = JsonSerializer.SerializeToUtf8Bytes(ToWire(request, _model), AnthropicJsonContext.Default.AnthropicRequest);
        var answer = await _http.PostAsync(body, cancellationToken);
        var response = FromWire(answer.Body);
        _http.LogCall(response, answer);
        return response;
    }

    public void Dispose() => _http.Dispose();

    internal static AnthropicRequest ToWire(LlmRequest request, string model) => new()
    {
        Model = model,
        MaxTokens = request.MaxOutputTokens,
        System = request.System.Length == 0 ? null : request.System,
        Messages = [.. request.Messages.Select(m => new AnthropicMessage { Role = LlmWire.Role(m.Role), Content = [.. m.Content.Select(Block)] })],
        Tools = request.Tools.Count == 0
            ? null
            : [.. request.Tools.Select(t => new AnthropicTool { Name = t.Name, Description = t.Description, InputSchema = LlmWire.Object(t.InputSchema) })],
    };

    private static AnthropicBlock Block(LlmBlock block) => block switch
    {
        LlmText t => new AnthropicBlock { Type = "text", Text = t.Text },
        LlmToolUse u => new AnthropicBlock { Type = "tool_use", Id = u.Id, Name = u.Name, Input = LlmWire.Object(u.Input) },
        LlmToolResult r => new AnthropicBlock { Type = "tool_result", ToolUseId = r.ToolUseId, Content = r.Content, IsError = r.IsError ? true : null },
        _ => throw new ArgumentException($"a message holds a block the Anthropic format cannot carry: {block.GetType().Name}", nameof(block)),
    };

    private LlmResponse FromWire(string body)
    {
        AnthropicResponse? wire;
        try
        {
            wire = JsonSerializer.Deserialize(body, AnthropicJsonContext.Default.AnthropicResponse);
        }
        catch (JsonException e)
        {
            throw _http.Malformed($"not the JSON of a message ({e.Message})", e);
        }

        if (wire?.Content is not { } content)
        {
            throw _http.Malformed("no \"content\" array");
        }

        var blocks = new List<LlmBlock>(content.Count);
        foreach (var block in content)
        {
            switch (block?.Type)
            {
                case "text":
                    blocks.Add(new LlmText(block.Text ?? throw _http.Malformed("a text block without \"text\"")));
                    break;
                case "tool_use":
                    if (string.IsNullOrEmpty(block.Id) || string.IsNullOrEmpty(block.Name))
                    {
                        throw _http.Malformed("a tool_use block without \"id\" or \"name\"");
                    }

                    if (block.Input is not { ValueKind: JsonValueKind.Object } input)
                    {
                        throw _http.Malformed($"the tool_use block {block.Id} ({block.Name}) has no \"input\" object");
                    }

                    blocks.Add(new LlmToolUse(block.Id, block.Name, input));
                    break;
                default:
                    // Thinking and server-tool blocks: nothing the engine acts on.
                    break;
            }
        }

        return new LlmResponse
        {
            Content = blocks,
            StopReason = wire.StopReason switch
            {
                "end_turn" or "stop_sequence" => LlmResponse.EndTurn,
                "tool_use" => LlmResponse.ToolUse,
                "max_tokens" => LlmResponse.MaxTokens,
                null => throw _http.Malformed("no \"stop_reason\""),
                // "refusal", "pause_turn" and later additions: the turn ends with what the model said, unless it asked for a tool.
                _ => LlmWire.Fallback(blocks),
            },
            InputTokens = wire.Usage?.InputTokens ?? 0,
            OutputTokens = wire.Usage?.OutputTokens ?? 0,
        };
    }
}
