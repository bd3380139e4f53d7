using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BoxBot.Config;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Llm;

/// <summary>
/// OpenAI-style chat completions, for a model served on the box itself (llama.cpp's <c>llama-server</c>, Ollama, vLLM)
/// or a hosted look-alike. The key is optional: local servers want none.
/// </summary>
/// <remarks>
/// The format has no blocks: a user message's tool results become <c>role: "tool"</c> messages (placed first, right after
/// the assistant's calls, where the format wants them) and its texts one user message; an error result is sent as
/// <c>"error: ..."</c>, since the format has no error flag. Answers are read leniently where local servers differ:
/// content as a string or an array of parts, arguments as JSON text or an object, a missing call id, and
/// <c>finish_reason: "stop"</c> next to tool calls (Ollama).
/// </remarks>
public sealed class OpenAiClient : ILlmClient, IDisposable
{
    private readonly LlmHttp _http;
    private readonly string _model;

    /// <param name="options">Model, endpoint (required) and the timeout of one try.</param>
    /// <param name="apiKey">The credential <c>llm-api-key</c>, sent as a bearer token; null or empty for a server that wants none.</param>
    /// <param name="logger">Receives a warning per retry and a debug line per call.</param>
    /// <param name="delay">Waits between tries (tests pass one that records and returns at once); default <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</param>
    /// <param name="handler">The HTTP handler; null for one that follows no redirects.</param>
    /// <exception cref="ArgumentException">No model or no base URL, or a key that cannot go in a header (the message does not quote it).</exception>
    public OpenAiClient(LlmOptions options, string? apiKey, ILogger? logger = null, Func<TimeSpan, CancellationToken, Task>? delay = null,
        HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Model, nameof(options));
        var baseUrl = options.BaseUrl ?? throw new ArgumentException("provider openai needs [agent.llm] base_url", nameof(options));
        apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        if (apiKey is not null && !LlmHttp.IsHeaderSafe(apiKey))
        {
            throw new ArgumentException(LlmClients.UnusableKey, nameof(apiKey));
        }

        _model = options.Model;
        Describe = $"openai {options.Model}";
        _http = new LlmHttp(LlmEndpoints.OpenAi(baseUrl), Describe, options.Model, options.Timeout, apiKey, headers =>
        {
            if (apiKey is not null)
            {
                headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            }
        }, logger, delay, handler);
    }

    public string Describe { get; }

    /// <summary>Where calls are posted: <c>{base_url}/v1/chat/completions</c>.</summary>
    public Uri Endpoint => _http.Endpoint;

    public async Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = JsonSerializer.SerializeToUtf8Bytes(ToWire(request, _model), OpenAiJsonContext.Default.OpenAiRequest);
        var answer = await _http.PostAsync(body, cancellationToken);
        var response = FromWire(answer.Body);
        _http.LogCall(response, answer);
        return response;
    }

    public void Dispose() => _http.Dispose();

    internal static OpenAiRequest ToWire(LlmRequest request, string model)
    {
        var messages = new List<OpenAiMessage>();
        if (request.System.Length > 0)
        {
            messages.Add(new OpenAiMessage { Role = "system", Content = request.System });
        }

        foreach (var message in request.Messages)
        {
            if (LlmWire.Role(message.Role) == LlmMessage.User)
            {
                foreach (var result in message.Content.OfType<LlmToolResult>())
                {
                    messages.Add(new OpenAiMessage
                    {
                        Role = "tool",
                        ToolCallId = result.ToolUseId,
                        Content = result.IsError ? "error: " + result.Content : result.Content,
                    });
                }

                if (Text(message) is { } text)
                {
                    messages.Add(new OpenAiMessage { Role = "user", Content = text });
                }
            }
            else
            {
                var calls = message.Content.OfType<LlmToolUse>()
                    .Select(u => new OpenAiToolCall
                    {
                        Id = u.Id,
                        Function = new OpenAiFunctionCall { Name = u.Name, Arguments = LlmWire.Object(u.Input).GetRawText() },
                    })
                    .ToList();
                messages.Add(new OpenAiMessage
                {
                    Role = "assistant",
                    Content = Text(message) ?? (calls.Count > 0 ? null : ""),
                    ToolCalls = calls.Count > 0 ? calls : null,
                });
            }

            if (message.Content.FirstOrDefault(b => b is not (LlmText or LlmToolUse or LlmToolResult)) is { } other)
            {
                throw new ArgumentException($"a message holds a block the OpenAI format cannot carry: {other.GetType().Name}", nameof(request));
            }
        }

        return new OpenAiRequest
        {
            Model = model,
            MaxTokens = request.MaxOutputTokens,
            Messages = messages,
            Tools = request.Tools.Count == 0
                ? null
                : [.. request.Tools.Select(t => new OpenAiTool
                {
                    Function = new OpenAiFunction { Name = t.Name, Description = t.Description, Parameters = LlmWire.Object(t.InputSchema) },
                })],
        };
    }

    /// <summary>The message's texts as one string (blank lines between them); null when it has none.</summary>
    private static string? Text(LlmMessage message)
    {
        var texts = message.Content.OfType<LlmText>().Select(t => t.Text).ToList();
        return texts.Count == 0 ? null : string.Join("\n\n", texts);
    }

    private LlmResponse FromWire(string body)
    {
        OpenAiResponse? wire;
        try
        {
            wire = JsonSerializer.Deserialize(body, OpenAiJsonContext.Default.OpenAiResponse);
        }
        catch (JsonException e)
        {
            throw _http.Malformed($"not the JSON of a chat completion ({e.Message})", e);
        }

        if (wire?.Choices is not { Count: > 0 } choices)
        {
            throw _http.Malformed("no \"choices\"");
        }

        var choice = choices[0];
        var message = choice?.Message ?? throw _http.Malformed("choices[0] has no \"message\"");
        var blocks = new List<LlmBlock>();
        if (Content(message.Content) is { Length: > 0 } text)
        {
            blocks.Add(new LlmText(text));
        }

        foreach (var call in message.ToolCalls ?? [])
        {
            if (string.IsNullOrEmpty(call?.Function?.Name))
            {
                throw _http.Malformed("a tool call without a function name");
            }

            // The engine ties the result to the call by id: a server that sends none still needs one, unique in the conversation.
            var id = string.IsNullOrEmpty(call.Id) ? $"call_{Guid.NewGuid():N}" : call.Id;
            blocks.Add(new LlmToolUse(id, call.Function.Name, Arguments(call.Function.Arguments)));
        }

        return new LlmResponse
        {
            Content = blocks,
            StopReason = choice.FinishReason switch
            {
                "length" => LlmResponse.MaxTokens,
                // "stop", "tool_calls", "function_call", "content_filter", none: the blocks decide.
                _ => LlmWire.Fallback(blocks),
            },
            InputTokens = wire.Usage?.PromptTokens ?? 0,
            OutputTokens = wire.Usage?.CompletionTokens ?? 0,
        };
    }

    /// <summary>A string, or an array of <c>{"type":"text","text"}</c> parts; null and other parts give nothing.</summary>
    private string? Content(JsonElement? content)
    {
        switch (content?.ValueKind)
        {
            case JsonValueKind.String:
                return content.Value.GetString();
            case JsonValueKind.Array:
                var text = new StringBuilder();
                foreach (var part in content.Value.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        text.Append(t.GetString());
                    }
                }

                return text.ToString();
            case null or JsonValueKind.Null:
                return null;
            default:
                throw _http.Malformed($"the message content is {content.Value.ValueKind}, not text");
        }
    }

    /// <summary>
    /// The call's input: the arguments parsed when they are a JSON object; none at all is <c>{}</c>; anything else is kept
    /// as text under <see cref="LlmWire.InvalidArgumentsKey"/>, so that the engine's input check refuses it by name
    /// instead of the whole answer being lost.
    /// </summary>
    private static JsonElement Arguments(JsonElement? arguments)
    {
        switch (arguments?.ValueKind)
        {
            case null or JsonValueKind.Null:
                return LlmWire.Parse("{}");
            case JsonValueKind.Object:
                return arguments.Value;
            case JsonValueKind.String:
                var text = arguments.Value.GetString()!;
                if (string.IsNullOrWhiteSpace(text))
                {
                    // Some servers send "" for a call without arguments.
                    return LlmWire.Parse("{}");
                }

                try
                {
                    var parsed = LlmWire.Parse(text);
                    return parsed.ValueKind == JsonValueKind.Object ? parsed : LlmWire.InvalidArguments(text);
                }
                catch (JsonException)
                {
                    return LlmWire.InvalidArguments(text);
                }

            default:
                return LlmWire.InvalidArguments(arguments.Value.GetRawText());
        }
    }
}
