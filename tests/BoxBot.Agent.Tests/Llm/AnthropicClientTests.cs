using System.Text.Json;
using BoxBot.Agent.Llm;
using static BoxBot.Agent.Tests.Llm.LlmTestSupport;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>The Anthropic Messages format on the wire, against a loopback fake of the API.</summary>
public class AnthropicClientTests
{
    private FakeLlmServer _server = null!;
    private RecordedDelays _delays = null!;
    private AnthropicClient _client = null!;

    [SetUp]
    public void SetUp()
    {
        _server = FakeLlmServer.Start(FakeLlmWire.Anthropic);
        _delays = new RecordedDelays();
        _client = new AnthropicClient(_server.Options("claude-test"), Key, delay: _delays.Delay);
    }

    [TearDown]
    public void TearDown()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Test]
    public async Task A_call_posts_to_v1_messages_with_the_key_the_version_and_json()
    {
        _server.ThenText("hi");

        await _client.CompleteAsync(Hello(), CancellationToken.None);

        var request = _server.Requests.Single();
        Assert.That(request.Method, Is.EqualTo("POST"));
        Assert.That(request.Path, Is.EqualTo("/v1/messages"));
        Assert.That(request.Header("x-api-key"), Is.EqualTo(Key));
        Assert.That(request.Header("anthropic-version"), Is.EqualTo("2023-06-01"));
        Assert.That(request.Header("content-type"), Is.EqualTo("application/json"));
        Assert.That(request.Header("authorization"), Is.Null);
        Assert.That(_client.Describe, Is.EqualTo("anthropic claude-test"));
    }

    [Test]
    public async Task System_tools_tool_calls_and_results_are_translated_block_for_block()
    {
        _server.ThenText("You have the dentist at 10:00.");

        await _client.CompleteAsync(Conversation(), CancellationToken.None);

        AssertJson(_server.Requests.Single().Json, """
            {
              "model": "claude-test",
              "max_tokens": 512,
              "system": "You are boxbot.",
              "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is on the calendar?"}]},
                {"role": "assistant", "content": [
                  {"type": "text", "text": "Let me look."},
                  {"type": "tool_use", "id": "toolu_1", "name": "calendar_list", "input": {"day": "today"}},
                  {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {}}
                ]},
                {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": "toolu_1", "content": "dentist at 10:00"},
                  {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no network", "is_error": true}
                ]}
              ],
              "tools": [
                {"name": "calendar_list", "description": "Lists the events of a day.",
                 "input_schema": {"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]}},
                {"name": "weather", "description": "Today's weather.", "input_schema": {"type": "object", "properties": {}}}
              ]
            }
            """);
    }

    [Test]
    public async Task Without_tools_or_system_prompt_neither_is_sent()
    {
        _server.ThenText("hi");

        await _client.CompleteAsync(new LlmRequest { System = "", Messages = [new(LlmMessage.User, [new LlmText("hello")])] }, CancellationToken.None);

        var json = _server.Requests.Single().Json;
        Assert.That(json.TryGetProperty("tools", out _), Is.False);
        Assert.That(json.TryGetProperty("system", out _), Is.False);
        Assert.That(json.GetProperty("max_tokens").GetInt32(), Is.EqualTo(1024));
    }

    [Test]
    public async Task A_text_answer_is_read_with_its_usage_and_end_turn()
    {
        _server.ThenText("Hello there.", inputTokens: 1234, outputTokens: 56);

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("Hello there.") }));
        Assert.That(response.StopReason, Is.EqualTo(LlmResponse.EndTurn));
        Assert.That((response.InputTokens, response.OutputTokens), Is.EqualTo((1234L, 56L)));
    }

    [Test]
    public async Task A_tool_call_comes_back_as_tool_use_and_goes_out_again_unchanged_with_its_result()
    {
        _server.ThenToolUse("toolu_9", "calendar_list", """{"day":"2025-01-02","limit":3}""", text: "Checking.").ThenText("Nothing that day.");

        var first = await _client.CompleteAsync(Hello(), CancellationToken.None);
        var call = (LlmToolUse)first.Content[1];
        var next = Hello() with
        {
            Messages = [.. Hello().Messages, new(LlmMessage.Assistant, first.Content), new(LlmMessage.User, [new LlmToolResult(call.Id, "[]", false)])],
        };
        var second = await _client.CompleteAsync(next, CancellationToken.None);

        Assert.That(first.StopReason, Is.EqualTo(LlmResponse.ToolUse));
        Assert.That(first.Content[0], Is.EqualTo(new LlmText("Checking.")));
        Assert.That((call.Id, call.Name, call.Input.GetProperty("limit").GetInt32()), Is.EqualTo(("toolu_9", "calendar_list", 3)));
        Assert.That(second.Content, Is.EqualTo(new LlmBlock[] { new LlmText("Nothing that day.") }));
        var messages = _server.Requests[1].Json.GetProperty("messages");
        AssertJson(messages[1], """
            {"role": "assistant", "content": [
              {"type": "text", "text": "Checking."},
              {"type": "tool_use", "id": "toolu_9", "name": "calendar_list", "input": {"day": "2025-01-02", "limit": 3}}
            ]}
            """);
        AssertJson(messages[2], """{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "[]"}]}""");
    }

    [TestCase("end_turn", LlmResponse.EndTurn)]
    [TestCase("stop_sequence", LlmResponse.EndTurn)]
    [TestCase("max_tokens", LlmResponse.MaxTokens)]
    [TestCase("tool_use", LlmResponse.ToolUse)]
    [TestCase("refusal", LlmResponse.EndTurn)]
    [TestCase("something_new", LlmResponse.EndTurn)]
    public async Task Stop_reasons_map_to_the_three_the_engine_knows(string wire, string expected)
    {
        _server.Then(200, $$$"""{"type":"message","content":[{"type":"text","text":"x"}],"stop_reason":"{{{wire}}}","usage":{"input_tokens":1,"output_tokens":1}}""");

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.StopReason, Is.EqualTo(expected));
    }

    [Test]
    public async Task Thinking_and_other_unknown_blocks_are_skipped()
    {
        _server.Then(200, """
            {"type":"message","content":[
              {"type":"thinking","thinking":"hmm","signature":"abc"},
              {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}},
              {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://example.org"}]},
              {"type":"text","text":"Done."}
            ],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":4}}
            """);

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("Done.") }));
    }

    [TestCase("this is not json", "is unusable: not the JSON of a message")]
    [TestCase("", "is unusable: not the JSON of a message")]
    [TestCase("""{"type":"message","stop_reason":"end_turn"}""", "is unusable: no \"content\" array")]
    [TestCase("""{"content":"hi","stop_reason":"end_turn"}""", "is unusable: not the JSON of a message")]
    [TestCase("""{"content":[{"type":"text","text":"x"}]}""", "is unusable: no \"stop_reason\"")]
    [TestCase("""{"content":[{"type":"text"}],"stop_reason":"end_turn"}""", "is unusable: a text block without \"text\"")]
    [TestCase("""{"content":[{"type":"tool_use","name":"x","input":{}}],"stop_reason":"tool_use"}""", "is unusable: a tool_use block without \"id\" or \"name\"")]
    [TestCase("""{"content":[{"type":"tool_use","id":"t1","name":"x","input":"{}"}],"stop_reason":"tool_use"}""",
        "is unusable: the tool_use block t1 (x) has no \"input\" object")]
    [TestCase("""{"content":[{"type":"text","text":7}],"stop_reason":"end_turn"}""", "is unusable: not the JSON of a message")]
    public async Task A_malformed_answer_is_an_LlmException_naming_what_was_wrong_and_is_not_retried(string body, string expected)
    {
        _server.Then(200, body);

        var e = (await Assert.ThrowsAsync<LlmException>(() => _client.CompleteAsync(Hello(), CancellationToken.None)))!;

        Assert.That(e.Message, Does.StartWith($"the LLM provider's answer ({_client.Endpoint}) "));
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Retryable, Is.False);
        Assert.That(_server.Requests, Has.Count.EqualTo(1));
    }

    [TestCase("https://api.example.org", "https://api.example.org/v1/messages")]
    [TestCase("https://api.example.org/", "https://api.example.org/v1/messages")]
    [TestCase("https://gateway.example.org/anthropic", "https://gateway.example.org/anthropic/v1/messages")]
    [TestCase("https://gateway.example.org/anthropic/v1/", "https://gateway.example.org/anthropic/v1/messages")]
    public void The_endpoint_is_v1_messages_under_the_base_url(string baseUrl, string expected)
    {
        using var client = new AnthropicClient(_server.Options() with { BaseUrl = new Uri(baseUrl) }, Key);

        Assert.That(client.Endpoint, Is.EqualTo(new Uri(expected)));
    }

    [Test]
    public void Without_a_base_url_the_endpoint_is_anthropics()
    {
        using var client = new AnthropicClient(_server.Options() with { BaseUrl = null }, Key);

        Assert.That(client.Endpoint, Is.EqualTo(new Uri("https://api.anthropic.com/v1/messages")));
    }

    [TestCase("sk-ant key")]
    [TestCase("sk-ant-key\n")]
    [TestCase("sk-ant-kéy")]
    public void A_key_that_cannot_go_in_a_header_is_refused_without_quoting_it(string key)
    {
        var e = Assert.Throws<ArgumentException>(() => new AnthropicClient(_server.Options(), key))!;

        Assert.That(e.Message, Does.Contain("the credential llm-api-key holds a space, a line break or a non-ASCII character"));
        Assert.That(e.Message, Does.Not.Contain("sk-ant"));
    }

    [Test]
    public void An_empty_key_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new AnthropicClient(_server.Options(), ""))!;

        Assert.That(e.Message, Does.StartWith("the credential llm-api-key is empty"));
    }

    [Test]
    public async Task A_message_with_a_role_other_than_user_or_assistant_is_a_caller_bug()
    {
        var request = Hello() with { Messages = [new("system", [new LlmText("x")])] };

        await Assert.ThrowsAsync<ArgumentException>(() => _client.CompleteAsync(request, CancellationToken.None));
        Assert.That(_server.Requests, Is.Empty);
    }

    [Test]
    public async Task A_tool_use_without_input_is_sent_with_an_empty_object()
    {
        _server.ThenText("ok");
        var request = Hello() with
        {
            Messages = [.. Hello().Messages, new(LlmMessage.Assistant, [new LlmToolUse("t1", "x", default)]),
                new(LlmMessage.User, [new LlmToolResult("t1", "done", false)])],
        };

        await _client.CompleteAsync(request, CancellationToken.None);

        AssertJson(_server.Requests.Single().Json.GetProperty("messages")[1].GetProperty("content")[0],
            """{"type":"tool_use","id":"t1","name":"x","input":{}}""");
    }

    [Test]
    public async Task The_tool_input_of_an_answer_outlives_the_answers_json()
    {
        _server.ThenToolUse("t1", "x", """{"a":[1,2,{"b":"c"}]}""");

        var response = await _client.CompleteAsync(Hello(), CancellationToken.None);
        GC.Collect();

        Assert.That(((LlmToolUse)response.Content[0]).Input.GetProperty("a")[2].GetProperty("b").GetString(), Is.EqualTo("c"));
        Assert.That(((LlmToolUse)response.Content[0]).Input.ValueKind, Is.EqualTo(JsonValueKind.Object));
    }
}
