using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BoxBot.Config;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>Which wire format a <see cref="FakeLlmServer"/> speaks.</summary>
public enum FakeLlmWire
{
    /// <summary>Anthropic's Messages API: <c>POST /v1/messages</c>.</summary>
    Anthropic,

    /// <summary>OpenAI-style chat completions: <c>POST /v1/chat/completions</c>.</summary>
    OpenAi,
}

/// <summary>One request as the fake received it.</summary>
/// <param name="Headers">Header names are case-insensitive; a repeated header keeps its last value.</param>
internal sealed record FakeLlmRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The body parsed (every request the clients send is JSON).</summary>
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A language model's HTTP API, just enough of it: HTTP/1.1 on a loopback <see cref="TcpListener"/>, one request per
/// connection, answering from a script in order (<see cref="ThenText"/>, <see cref="ThenToolUse"/>, <see cref="ThenError"/>,
/// <see cref="Then"/>) in either wire format. Every request is recorded with its headers and body. When the script is
/// used up it answers 500, so a test that makes one call too many fails with a clear message.
/// </summary>
/// <remarks>Shared by the client tests and the conversation engine's tests.</remarks>
internal sealed class FakeLlmServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentQueue<Scripted> _script = new();
    private readonly ConcurrentQueue<FakeLlmRequest> _requests = new();
    private readonly CancellationTokenSource _stopping = new();

    private FakeLlmServer(FakeLlmWire wire) => Wire = wire;

    public FakeLlmWire Wire { get; }

    /// <summary>The base URL to configure (<c>http://127.0.0.1:PORT</c>), without <c>/v1</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every request received so far, in order.</summary>
    public IReadOnlyList<FakeLlmRequest> Requests => [.. _requests];

    /// <summary>Scripted answers not yet played.</summary>
    public int Pending => _script.Count;

    public static FakeLlmServer Start(FakeLlmWire wire)
    {
        var fake = new FakeLlmServer(wire);
        fake._listener.Start();
        fake.Url = new Uri($"http://127.0.0.1:{((IPEndPoint)fake._listener.LocalEndpoint).Port}");
        _ = fake.AcceptAsync();
        return fake;
    }

    /// <summary>Options pointing at this server in its wire format, with the given model and a short timeout.</summary>
    public LlmOptions Options(string model = "test-model", TimeSpan? timeout = null) => LlmOptions.Default with
    {
        Provider = Wire == FakeLlmWire.Anthropic ? LlmProvider.Anthropic : LlmProvider.OpenAi,
        Model = model,
        BaseUrl = Url,
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
    };

    /// <summary>Answers the next request with exactly this status and body, after <paramref name="delay"/>.</summary>
    public FakeLlmServer Then(int status, string body, IReadOnlyDictionary<string, string>? headers = null, TimeSpan? delay = null)
    {
        _script.Enqueue(new Scripted(status, body, headers ?? new Dictionary<string, string>(), delay ?? TimeSpan.Zero));
        return this;
    }

    /// <summary>The model answers with text and ends its turn.</summary>
    public FakeLlmServer ThenText(string text, long inputTokens = 10, long outputTokens = 5, TimeSpan? delay = null) =>
        Then(200, Wire == FakeLlmWire.Anthropic
            ? Anthropic([new JsonObject { ["type"] = "text", ["text"] = text }], "end_turn", inputTokens, outputTokens)
            : OpenAi(text, [], "stop", inputTokens, outputTokens), delay: delay);

    /// <summary>The model calls one tool (<paramref name="inputJson"/>: its arguments), optionally saying something first.</summary>
    public FakeLlmServer ThenToolUse(string id, string name, string inputJson, string? text = null, long inputTokens = 10, long outputTokens = 5) =>
        ThenToolUses([(id, name, inputJson)], text, inputTokens, outputTokens);

    /// <summary>The model calls several tools at once.</summary>
    public FakeLlmServer ThenToolUses(IReadOnlyList<(string Id, string Name, string InputJson)> calls, string? text = null, long inputTokens = 10,
        long outputTokens = 5)
    {
        if (Wire == FakeLlmWire.Anthropic)
        {
            var blocks = new List<JsonNode>();
            if (text is not null)
            {
                blocks.Add(new JsonObject { ["type"] = "text", ["text"] = text });
            }

            blocks.AddRange(calls.Select(c => (JsonNode)new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = c.Id,
                ["name"] = c.Name,
                ["input"] = JsonNode.Parse(c.InputJson),
            }));
            return Then(200, Anthropic(blocks, "tool_use", inputTokens, outputTokens));
        }

        // OpenAI sends arguments as a string of JSON; it is passed on as given, valid or not.
        return Then(200, OpenAi(text, calls, "tool_calls", inputTokens, outputTokens));
    }

    /// <summary>The model stops at its token limit after <paramref name="text"/>.</summary>
    public FakeLlmServer ThenMaxTokens(string text) =>
        Then(200, Wire == FakeLlmWire.Anthropic
            ? Anthropic([new JsonObject { ["type"] = "text", ["text"] = text }], "max_tokens", 10, 5)
            : OpenAi(text, [], "length", 10, 5));

    /// <summary>An error in the provider's own shape, with a <c>Retry-After</c> header when given.</summary>
    public FakeLlmServer ThenError(int status, string type, string message, int? retryAfterSeconds = null)
    {
        var error = Wire == FakeLlmWire.Anthropic
            ? new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["code"] = status } };
        var headers = new Dictionary<string, string>();
        if (retryAfterSeconds is { } seconds)
        {
            headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return Then(status, error.ToJsonString(), headers);
    }

    /// <summary>Answers the next request only after <paramref name="delay"/> (or when the server stops): a slow or hung provider.</summary>
    public FakeLlmServer ThenHang(TimeSpan delay) => Then(500, "{}", delay: delay);

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Dispose();
    }

    private static string Anthropic(IEnumerable<JsonNode> content, string stopReason, long inputTokens, long outputTokens) => new JsonObject
    {
        ["id"] = "msg_fake",
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = "fake",
        ["content"] = new JsonArray([.. content]),
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = inputTokens, ["output_tokens"] = outputTokens },
    }.ToJsonString();

    private static string OpenAi(string? text, IReadOnlyList<(string Id, string Name, string InputJson)> calls, string finishReason,
        long inputTokens, long outputTokens)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text };
        if (calls.Count > 0)
        {
            message["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.InputJson },
            })]);
        }

        return new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["model"] = "fake",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = inputTokens,
                ["completion_tokens"] = outputTokens,
                ["total_tokens"] = inputTokens + outputTokens,
            },
        }.ToJsonString();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient connection;
            try
            {
                connection = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(TcpClient connection)
    {
        using var _ = connection;
        try
        {
            var stream = connection.GetStream();
            var request = await ReadRequestAsync(stream);
            if (request is null)
            {
                return;
            }

            _requests.Enqueue(request);
            var next = _script.TryDequeue(out var scripted)
                ? scripted
                : new Scripted(500, """{"error":{"type":"fake","message":"fake LLM server: no scripted answer left"}}""", new Dictionary<string, string>(), TimeSpan.Zero);
            if (next.Delay > TimeSpan.Zero)
            {
                await Task.Delay(next.Delay, _stopping.Token);
            }

            var body = Encoding.UTF8.GetBytes(next.Body);
            var head = new StringBuilder($"HTTP/1.1 {next.Status} Fake\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n");
            foreach (var (name, value) in next.Headers)
            {
                head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), _stopping.Token);
            await stream.WriteAsync(body, _stopping.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The client gave up (timeout, cancellation) or the server is stopping.
        }
    }

    private static async Task<FakeLlmRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = new byte[headers.TryGetValue("Content-Length", out var length) ? int.Parse(length, CultureInfo.InvariantCulture) : 0];
        await stream.ReadExactlyAsync(body);
        return new FakeLlmRequest(requestLine[0], requestLine[1], headers, Encoding.UTF8.GetString(body));
    }

    private sealed record Scripted(int Status, string Body, IReadOnlyDictionary<string, string> Headers, TimeSpan Delay);
}
