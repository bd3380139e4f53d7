using System.Text.Json;
using BoxBot.Agent.Llm;
using static BoxBot.Agent.Tests.Llm.LlmTestSupport;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>OpenAI-style chat completions on the wire (llama.cpp, Ollama), against a loopback fake.</summary>
public class OpenAiClientTests
{
    private FakeLlmServer _server = null!;
    private OpenAiClient _client = null!;

    [SetUp]
    public void SetUp()
    {
        _server = FakeLlmServer.Start(FakeLlmWire.OpenAi);
        _client = new OpenAiClient(_server.Options("llama3.1:8b"), apiKey: null, delay: new RecordedDelays().Delay);
    }

    [TearDown]
    public void TearDown()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Test]
    public async Task Without_a_key_a_call_posts_to_v1_chat_completions_with_no_authorization()
    {
        _server.ThenText("hi");

        await _client.CompleteAsync(Hello(), CancellationToken.None);

        var request = _server.Requests.Single();
        Assert.That((request.Method, request.Path), Is.EqualTo(("POST", "/v1/chat/completions")));
        Assert.That(request.Header("authorization"), Is.Null);
        Assert.That(request.Header("x-api-key"), Is.Null);
        Assert.That(request.Header("content-type"), Is.EqualTo("application/json"));
        Assert.That(_client.Describe, Is.EqualTo("openai llama3.1:8b"));
    }

    [Test]
    public async Task With_a_key_it_is_sent_as_a_bearer_token()
    {
        using var client = new OpenAiClient(_server.Options(), Key);
        _server.ThenText("hi");

        await client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(_server.Requests.Single().Header("authorization"), Is.EqualTo($"Bearer {Key}"));
    }

    [TestCase("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions")]
    [TestCase("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1/chat/completions")]
    [TestCase("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1/chat/completions")]
    [TestCase("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/chat/completions")]
    [TestCase("https://example.org/llm", "https://example.org/llm/v1/chat/completions")]
    public void A_base_url_ending_in_v1_is_not_doubled(string baseUrl, string expected)
    {
        using var client = new OpenAiClient(_server.Options() with { BaseUrl = new Uri(baseUrl) }, null);

        Assert.That(client.Endpoint, Is.EqualTo(new Uri(expected)));
    }

    [Test]
    public async Task System_tools_tool_calls_and_results_become_messages_the_format_knows_and_an_error_result_says_so()
    {
        _server.ThenText("You have the dentist at 10:00.");

        await _client.CompleteAsync(Conversation(), CancellationToken.None);

        AssertJson(_server.Requests.Single().Json, """
            {
              "model": "llama3.1:8b",
              "max_tokens": 512,
              "messages": [
                {"role": "system", "content": "You are boxbot."},
                {"role": "user", "content": "What is on the calendar?"},
                {"role": "assistant", "content": "Let me look.", "tool_calls": [
                  {"id": "toolu_1", "type": "function", "function": {"name": "calendar_list", "arguments": "{\"day\":\"today\"}"}},
                  {"id": "toolu_2", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "dentist at 10:00"},
                {"role": "tool", "tool_call_id": "toolu_2", "content": "error: no network"}
              ],
              "tools": [
                {"type": "function", "function": {"name": "calendar_list", "description": "Lists the events of a day.",
                  "parameters": {"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]}}},
                {"type": "function", "function": {"name": "weather", "description": "Today's weather.",
                  "parameters": {"type": "object", "properties": {}}}}
              ]
            }
            """);
    }

    [Test]
    public async Task An_assistant_message_with_only_tool_calls_has_null_content_and_tool_results_come_before_the_users_text()
    {
        _server.ThenText("ok");
        var request = Hello() with
        {
            System = "",
            Messages =
            [
                new(LlmMessage.User, [new LlmText("a"), new LlmText("b")]),
                new(LlmMessage.Assistant, [new LlmToolUse("c1", "x", Json("""{"n":1}"""))]),
                new(LlmMessage.User, [new LlmText("also this"), new LlmToolResult("c1", "one", false)]),
            ],
        };

        await _client.CompleteAsync(request, CancellationToken.None);

        AssertJson(_server.Requests.Single().Json.GetProperty("messages"), """
            [
              {"role": "user", "content": "a\n\nb"},
              {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "x", "arguments": "{\"n\":1}"}}]},
              {"role": "tool", "tool_call_id": "c1", "content": "one"},
              {"role": "user", "content": "also this"}
            ]
            """);
        Assert.That(_server.Requests.Single().Json.TryGetProperty("tools", out _), Is.False);
    }

    [Test]
    public async Task A_text_answer_is_read_with_its_usage()
    {
        _server.ThenText("Hello there.", inputTokens: 321, outputTokens: 12);

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("Hello there.") }));
        Assert.That(response.StopReason, Is.EqualTo(LlmResponse.EndTurn));
        Assert.That((response.InputTokens, response.OutputTokens), Is.EqualTo((321L, 12L)));
    }

    [Test]
    public async Task Tool_calls_come_back_as_tool_uses_with_parsed_arguments_and_round_trip()
    {
        _server.ThenToolUses([("call_a", "calendar_list", """{"day":"today"}"""), ("call_b", "weather", "{}")], text: "Looking.")
            .ThenText("Sunny, and the dentist at 10.");

        var first = await _client.CompleteAsync(Hello(), CancellationToken.None);
        var next = Hello() with
        {
            Messages =
            [
                .. Hello().Messages,
                new(LlmMessage.Assistant, first.Content),
                new(LlmMessage.User, [new LlmToolResult("call_a", "dentist 10:00", false), new LlmToolResult("call_b", "sunny", false)]),
            ],
        };
        await _client.CompleteAsync(next, CancellationToken.None);

        Assert.That(first.StopReason, Is.EqualTo(LlmResponse.ToolUse));
        Assert.That(first.Content[0], Is.EqualTo(new LlmText("Looking.")));
        var calls = first.Content.OfType<LlmToolUse>().ToList();
        Assert.That(calls.Select(c => (c.Id, c.Name, c.Input.GetRawText())), Is.EqualTo(new[]
        {
            ("call_a", "calendar_list", """{"day":"today"}"""), ("call_b", "weather", "{}"),
        }));
        AssertJson(_server.Requests[1].Json.GetProperty("messages")[2], """
            {"role": "assistant", "content": "Looking.", "tool_calls": [
              {"id": "call_a", "type": "function", "function": {"name": "calendar_list", "arguments": "{\"day\":\"today\"}"}},
              {"id": "call_b", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
            ]}
            """);
    }

    [TestCase("{\"day\": ", TestName = "Cut-off JSON")]
    [TestCase("day=today", TestName = "Not JSON")]
    [TestCase("[\"today\"]", TestName = "A JSON array")]
    [TestCase("\"today\"", TestName = "A JSON string")]
    public async Task Arguments_that_are_not_a_json_object_reach_the_engine_as_invalid_arguments(string arguments)
    {
        _server.ThenToolUse("call_1", "calendar_list", arguments);

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        var call = (LlmToolUse)response.Content.Single();
        Assert.That((call.Id, call.Name), Is.EqualTo(("call_1", "calendar_list")));
        AssertJson(call.Input, JsonSerializer.Serialize(new Dictionary<string, string> { ["_invalid_arguments"] = arguments }));
        Assert.That(response.StopReason, Is.EqualTo(LlmResponse.ToolUse));
    }

    [Test]
    public async Task Lenient_where_local_servers_differ_object_arguments_empty_arguments_missing_ids_content_parts_and_stop_with_calls()
    {
        _server.Then(200, """
            {"choices":[{"message":{"role":"assistant",
              "content":[{"type":"text","text":"Two "},{"type":"text","text":"calls."}],
              "tool_calls":[
                {"type":"function","function":{"name":"a","arguments":{"x":1}}},
                {"id":"","type":"function","function":{"name":"b","arguments":""}},
                {"id":"c3","type":"function","function":{"name":"c"}}
              ]},"finish_reason":"stop"}]}
            """);

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content[0], Is.EqualTo(new LlmText("Two calls.")));
        var calls = response.Content.OfType<LlmToolUse>().ToList();
        Assert.That(calls.Select(c => (c.Name, c.Input.GetRawText())), Is.EqualTo(new[] { ("a", """{"x":1}"""), ("b", "{}"), ("c", "{}") }));
        Assert.That(calls[0].Id, Does.StartWith("call_"));
        Assert.That(calls[1].Id, Does.StartWith("call_").And.Not.EqualTo(calls[0].Id));
        Assert.That(calls[2].Id, Is.EqualTo("c3"));
        Assert.That(response.StopReason, Is.EqualTo(LlmResponse.ToolUse));
        Assert.That((response.InputTokens, response.OutputTokens), Is.EqualTo((0L, 0L)));
    }

    [TestCase("stop", LlmResponse.EndTurn)]
    [TestCase("length", LlmResponse.MaxTokens)]
    [TestCase("content_filter", LlmResponse.EndTurn)]
    [TestCase(null, LlmResponse.EndTurn)]
    public async Task Finish_reasons_map_to_the_stop_reasons_the_engine_knows(string? finish, string expected)
    {
        var reason = finish is null ? "null" : $"\"{finish}\"";
        _server.Then(200, $$"""{"choices":[{"message":{"role":"assistant","content":"x"},"finish_reason":{{reason}}}]}""");

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.StopReason, Is.EqualTo(expected));
    }

    [Test]
    public async Task Length_with_a_text_is_max_tokens()
    {
        _server.ThenMaxTokens("and then");

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.StopReason, Is.EqualTo(LlmResponse.MaxTokens));
        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("and then") }));
    }

    [TestCase("<html>Bad gateway</html>", "is unusable: not the JSON of a chat completion")]
    [TestCase("""{"choices":[]}""", "is unusable: no \"choices\"")]
    [TestCase("""{"object":"chat.completion"}""", "is unusable: no \"choices\"")]
    [TestCase("""{"choices":[{"finish_reason":"stop"}]}""", "is unusable: choices[0] has no \"message\"")]
    [TestCase("""{"choices":[{"message":{"content":42}}]}""", "is unusable: the message content is Number, not text")]
    [TestCase("""{"choices":[{"message":{"tool_calls":[{"id":"x","function":{"arguments":"{}"}}]}}]}""", "is unusable: a tool call without a function name")]
    public async Task A_malformed_answer_is_an_LlmException_naming_what_was_wrong(string body, string expected)
    {
        _server.Then(200, body);

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Is.EqualTo($"the LLM provider's answer ({_client.Endpoint}) {expected}").Or.StartWith($"the LLM provider's answer ({_client.Endpoint}) {expected} ("));
        Assert.That(e.Retryable, Is.False);
    }

    [Test]
    public async Task Ollamas_plain_string_error_is_quoted()
    {
        _server.Then(404, """{"error":"model \"llama9\" not found, try pulling it first"}""");

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Is.EqualTo($"model not found (404): check [agent.llm] model (\"llama3.1:8b\") and base_url (the box posted to {_client.Endpoint}) " +
            "(the provider said: model \"llama9\" not found, try pulling it first)"));
    }

    [Test]
    public void The_openai_provider_needs_a_base_url()
    {
        var e = Assert.Throws<ArgumentException>(() => new OpenAiClient(_server.Options() with { BaseUrl = null }, null))!;

        Assert.That(e.Message, Does.StartWith("provider openai needs [agent.llm] base_url"));
    }
}
