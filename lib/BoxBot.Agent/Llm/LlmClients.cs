using BoxBot.Config;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Llm;

/// <summary>
/// Builds the agent's model client from <c>[agent.llm]</c> and the credential <c>llm-api-key</c>, or says why there is none.
/// </summary>
/// <remarks>
/// "Not configured" is a normal state, not an error: a box is installed before anyone has a key, and the rest of the
/// agent (WhatsApp, users, packages) works without a model. So <see cref="Create"/> returns null instead of throwing,
/// and <see cref="NotConfiguredReason"/> gives the daemon the words for its status
/// (<c>llm: not configured (no model in [agent.llm])</c>). A configuration that is wrong rather than incomplete is
/// caught earlier, when <c>boxbot.toml</c> is loaded.
/// </remarks>
public static class LlmClients
{
    /// <summary>The name of the credential holding the API key.</summary>
    public const string ApiKeyCredential = "llm-api-key";

    // Never quotes the key: HttpClient's own complaint about a bad header value would.
    internal const string UnusableKey = "the credential llm-api-key holds a space, a line break or a non-ASCII character, which cannot go in an " +
        "HTTP header: paste the key again";

    /// <summary>The client <paramref name="options"/> ask for, or null when <see cref="NotConfiguredReason"/> says why not.</summary>
    /// <param name="options"><c>config.Agent.Llm</c>.</param>
    /// <param name="apiKey">The credential <c>llm-api-key</c> (null when absent); needed for Anthropic, optional for OpenAI-style servers.</param>
    /// <param name="handler">The HTTP handler (tests); null for one that follows no redirects.</param>
    /// <param name="logger">Receives a warning per retry and a debug line per call.</param>
    /// <param name="delay">Waits between tries (tests pass one that records and returns at once).</param>
    /// <returns>An <see cref="AnthropicClient"/> or <see cref="OpenAiClient"/>, both <see cref="IDisposable"/>: the caller owns it.</returns>
    public static ILlmClient? Create(LlmOptions options, string? apiKey, HttpMessageHandler? handler = null, ILogger? logger = null,
        Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (NotConfiguredReason(options, apiKey) is not null)
        {
            return null;
        }

        return options.Provider switch
        {
            LlmProvider.Anthropic => new AnthropicClient(options, apiKey!, logger, delay, handler),
            LlmProvider.OpenAi => new OpenAiClient(options, apiKey, logger, delay, handler),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Provider, "unknown LLM provider"),
        };
    }

    /// <summary>Why <see cref="Create"/> gives no client (for status and the log), or null when it gives one.</summary>
    public static string? NotConfiguredReason(LlmOptions options, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Model.Length == 0)
        {
            return "no model in [agent.llm]";
        }

        if (options.Provider == LlmProvider.OpenAi && options.BaseUrl is null)
        {
            // The config loader refuses this; options built in code could still say it.
            return "provider openai needs base_url in [agent.llm]";
        }

        if (string.IsNullOrEmpty(apiKey))
        {
            return options.Provider == LlmProvider.Anthropic ? $"no API key: the credential {ApiKeyCredential} is missing or empty" : null;
        }

        return LlmHttp.IsHeaderSafe(apiKey) ? null : UnusableKey;
    }
}
