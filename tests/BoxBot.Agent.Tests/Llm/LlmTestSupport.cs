using System.Text.Json;
using System.Text.Json.Nodes;
using BoxBot.Agent.Llm;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>Requests, waits and JSON comparisons the LLM client tests share.</summary>
internal static class LlmTestSupport
{
    public const string Key = "sk-ant-test-7f3a9c1e5b";

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>A conversation with everything the formats must carry: system, tools, text, two tool calls, an ok and an error result.</summary>
    public static LlmRequest Conversation() => new()
    {
        System = "You are boxbot.",
        Messages =
        [
            new(LlmMessage.User, [new LlmText("What is on the calendar?")]),
            new(LlmMessage.Assistant,
            [
                new LlmText("Let me look."),
                new LlmToolUse("toolu_1", "calendar_list", Json("""{"day":"today"}""")),
                new LlmToolUse("toolu_2", "weather", Json("{}")),
            ]),
            new(LlmMessage.User, [new LlmToolResult("toolu_1", "dentist at 10:00", false), new LlmToolResult("toolu_2", "no network", true)]),
        ],
        Tools =
        [
            new LlmTool("calendar_list", "Lists the events of a day.", Json("""{"type":"object","properties":{"day":{"type":"string"}},"required":["day"]}""")),
            new LlmTool("weather", "Today's weather.", Json("""{"type":"object","properties":{}}""")),
        ],
        MaxOutputTokens = 512,
    };

    public static LlmRequest Hello() => new() { System = "s", Messages = [new(LlmMessage.User, [new LlmText("hello")])] };

    /// <summary>Asserts that two JSON texts are the same value (property order and spacing aside).</summary>
    public static void AssertJson(JsonElement actual, string expected) =>
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(actual.GetRawText()), JsonNode.Parse(expected)), Is.True,
            $"expected {JsonNode.Parse(expected)!.ToJsonString()}\n but was {actual.GetRawText()}");
}

/// <summary>Stands in for the wait between tries: records each and returns at once.</summary>
internal sealed class RecordedDelays
{
    private readonly List<TimeSpan> _waits = [];

    public IReadOnlyList<TimeSpan> Waits => _waits;

    public Task Delay(TimeSpan wait, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _waits.Add(wait);
        return Task.CompletedTask;
    }
}
