using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Llm;

/// <summary>
/// Log events of model calls (ids 700-709; the conversation engine may use 710 and up). They name the provider and
/// model, HTTP statuses, tries and token counts: never the API key, and never the prompt or the answer (they are private).
/// </summary>
internal static partial class LlmLog
{
    [LoggerMessage(EventId = 700, EventName = "llm-retry", Level = LogLevel.Warning,
        Message = "LLM {Client}: {Problem}; try {Attempt} of {MaxAttempts} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string client, string problem, int attempt, int maxAttempts, long delayMs);

    [LoggerMessage(EventId = 701, EventName = "llm-call", Level = LogLevel.Debug,
        Message = "LLM {Client}: {StopReason}, {InputTokens} tokens in, {OutputTokens} out, {Attempts} tries, {ElapsedMs} ms")]
    public static partial void Called(ILogger logger, string client, string stopReason, long inputTokens, long outputTokens, int attempts, long elapsedMs);
}
