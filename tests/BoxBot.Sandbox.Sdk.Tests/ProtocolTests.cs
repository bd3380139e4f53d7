using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace BoxBot.Sandbox.Sdk.Tests;

/// <summary>Raw lines on a real socketpair, as a hostile script would write them without the bb package.</summary>
public sealed class ProtocolTests
{
    private string _workspace = "";
    private FakeSdkHost _host = null!;
    private CapturingLogger _logger = null!;
    private SdkSession _session = null!;
    private Socket _job = null!;
    private Task _run = null!;
    private CancellationTokenSource _cts = null!;
    private readonly List<byte> _pending = [];

    [SetUp]
    public void Start()
    {
        _workspace = Directory.CreateTempSubdirectory("boxbot-sdk-raw-").FullName;
        _host = new FakeSdkHost();
        _logger = new CapturingLogger();
        _session = new SdkSession(new SdkOptions { WorkspaceHostPath = _workspace }, _host, _logger);
        var (hostEnd, jobFd) = SocketPair.Create();
        _job = SocketPair.Wrap(jobFd);
        _cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _run = Task.Run(async () =>
        {
            using (hostEnd)
            {
                await _session.RunAsync(hostEnd, _cts.Token);
            }
        });
        _pending.Clear();
    }

    [TearDown]
    public void Stop()
    {
        _cts.Cancel();
        _job.Dispose();
        _run.Wait(TimeSpan.FromSeconds(10));
        _cts.Dispose();
        Directory.Delete(_workspace, recursive: true);
    }

    [Test]
    public async Task A_valid_line_gets_a_result_with_its_id()
    {
        var reply = await CallAsync("""{"jsonrpc":"2.0","id":42,"method":"workspace.path","params":{}}""");

        Assert.That(reply.GetProperty("id").GetInt64(), Is.EqualTo(42));
        Assert.That(reply.GetProperty("jsonrpc").GetString(), Is.EqualTo("2.0"));
        Assert.That(reply.GetProperty("result").GetProperty("path").GetString(), Is.EqualTo("/workspace"));
    }

    [Test]
    public async Task Invalid_json_gets_a_parse_error_and_the_next_call_still_works()
    {
        var bad = await CallAsync("""{"jsonrpc":"2.0","id":1,"method":"secrets.list",""");
        var good = await CallAsync("""{"jsonrpc":"2.0","id":2,"method":"secrets.list"}""");

        Assert.That(Code(bad), Is.EqualTo(SdkErrorCodes.ParseError));
        Assert.That(bad.GetProperty("id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(good.GetProperty("id").GetInt64(), Is.EqualTo(2));
        Assert.That(good.GetProperty("result").GetProperty("names").GetArrayLength(), Is.Zero);
    }

    [TestCase("""[1,2]""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","method":"secrets.list"}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","id":"1","method":"secrets.list"}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","id":1.5,"method":"secrets.list"}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"id":1,"method":"secrets.list"}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"1.0","id":1,"method":"secrets.list"}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":5}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.list","extra":1}""", SdkErrorCodes.InvalidRequest)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.list","params":[]}""", SdkErrorCodes.InvalidParams)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"name":"A","name":"a"}}""", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"name":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}""", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"name":"A"}} {}""", SdkErrorCodes.ParseError)]
    [TestCase("", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"name":"\ud800"}}""", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"\udc00":"A"}}""", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"\ud800","params":{}}""", SdkErrorCodes.ParseError)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets\u002ehas","params":{"name":"A","x":"y"}}""", SdkErrorCodes.InvalidParams)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"secrets.get","params":{"name":"A"}}""", SdkErrorCodes.MethodNotFound)]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"SECRETS.LIST"}""", SdkErrorCodes.MethodNotFound)]
    public async Task A_malformed_request_gets_an_error_reply_and_the_session_keeps_serving(string line, int code)
    {
        var reply = await CallAsync(line);
        var next = await CallAsync("""{"jsonrpc":"2.0","id":7,"method":"secrets.has","params":{"name":"A"}}""");

        Assert.That(Code(reply), Is.EqualTo(code), reply + "\n" + _logger.All);
        Assert.That(next.GetProperty("result").GetProperty("has").GetBoolean(), Is.False);
        Assert.That(_host.Calls, Is.EqualTo(new[] { "has A" }));
    }

    [Test]
    public async Task Invalid_utf8_gets_a_parse_error()
    {
        await SendAsync([.. """{"jsonrpc":"2.0","id":1,"method":"secrets.has","params":{"name":" """u8, 0xff, 0xfe, .. "\"}}\n"u8]);

        Assert.That(Code(await ReadReplyAsync()), Is.EqualTo(SdkErrorCodes.ParseError));
    }

    [Test]
    public async Task A_line_of_exactly_64_KiB_is_served()
    {
        var head = """{"jsonrpc":"2.0","id":3,"method":"secrets.list","params":{}""";
        var line = head + new string(' ', 64 * 1024 - head.Length - 1) + "}";
        Assert.That(Encoding.UTF8.GetByteCount(line), Is.EqualTo(64 * 1024));

        var reply = await CallAsync(line);

        Assert.That(reply.GetProperty("result").GetProperty("names").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task A_line_of_64_KiB_plus_one_is_refused_and_the_channel_closes_cleanly()
    {
        var head = """{"jsonrpc":"2.0","id":3,"method":"secrets.list","params":{}""";
        var line = head + new string(' ', 64 * 1024 - head.Length) + "}";

        var reply = await CallAsync(line);

        Assert.That(Code(reply), Is.EqualTo(SdkErrorCodes.LineTooLong));
        Assert.That(await IsClosedAsync(), Is.True, "the host must close the channel");
        Assert.That(_run.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(_run.IsCompletedSuccessfully, Is.True);
        Assert.That(_host.Calls, Is.Empty);
    }

    [Test]
    public async Task The_1001st_call_is_refused_and_the_channel_closes()
    {
        for (var i = 1; i <= 1000; i++)
        {
            var ok = await CallAsync($$"""{"jsonrpc":"2.0","id":{{i}},"method":"workspace.path"}""");
            Assert.That(ok.GetProperty("id").GetInt64(), Is.EqualTo(i));
            Assert.That(ok.TryGetProperty("result", out _), Is.True);
        }

        var refused = await CallAsync("""{"jsonrpc":"2.0","id":1001,"method":"workspace.path"}""");

        Assert.That(Code(refused), Is.EqualTo(SdkErrorCodes.TooManyCalls));
        Assert.That(refused.GetProperty("id").GetInt64(), Is.EqualTo(1001));
        Assert.That(await IsClosedAsync(), Is.True, "the host must close the channel");
        Assert.That(_session.Calls, Is.EqualTo(1000));
    }

    [Test]
    public async Task Invalid_lines_count_towards_the_call_limit()
    {
        for (var i = 0; i < 1000; i++)
        {
            Assert.That(Code(await CallAsync("not json")), Is.EqualTo(SdkErrorCodes.ParseError));
        }

        Assert.That(Code(await CallAsync("""{"jsonrpc":"2.0","id":1,"method":"workspace.path"}""")), Is.EqualTo(SdkErrorCodes.TooManyCalls));
    }

    [Test]
    public async Task The_log_records_methods_and_outcomes_but_nothing_the_job_chose()
    {
        await CallAsync("""{"jsonrpc":"2.0","id":1,"method":"MARKER-METHOD","params":{}}""");
        await CallAsync("""{"jsonrpc":"2.0","id":2,"method":"secrets.store","params":{"name":"MARKER_NAME","value":"MARKER-VALUE"}}""");
        await CallAsync("""{"jsonrpc":"2.0","id":3,"method":"output.attach","params":{"path":"MARKER-PATH"}}""");
        await CallAsync("""{"jsonrpc":"2.0","id":4,"method":"secrets.has","params":{"name":"MARKER-bad"}}""");

        Assert.That(_logger.All, Does.Not.Contain("MARKER"));
        Assert.That(_logger.All, Does.Contain("secrets.store: ok").And.Contain("output.attach").And.Contain("secrets.has: invalid-params"));
        Assert.That(_host.Secrets["MARKER_NAME"], Is.EqualTo("MARKER-VALUE"));
    }

    [Test]
    public async Task Cancelling_ends_the_session_without_an_exception()
    {
        await CallAsync("""{"jsonrpc":"2.0","id":1,"method":"workspace.path"}""");

        await _cts.CancelAsync();

        Assert.That(_run.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(_run.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task Requests_split_across_writes_and_joined_in_one_write_are_each_answered()
    {
        await SendAsync(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"met"""));
        await Task.Delay(50);
        await SendAsync(Encoding.UTF8.GetBytes("""
            hod":"workspace.path"}
            {"jsonrpc":"2.0","id":2,"method":"workspace.path"}

            """.Replace("\r", "", StringComparison.Ordinal)));

        Assert.That((await ReadReplyAsync()).GetProperty("id").GetInt64(), Is.EqualTo(1));
        Assert.That((await ReadReplyAsync()).GetProperty("id").GetInt64(), Is.EqualTo(2));
    }

    /// <summary>EOF, or ECONNRESET when the host closed with our unread bytes still queued (Linux AF_UNIX does that).</summary>
    private async Task<bool> IsClosedAsync()
    {
        try
        {
            return await _job.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30)) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static int Code(JsonElement reply) => reply.GetProperty("error").GetProperty("code").GetInt32();

    private async Task<JsonElement> CallAsync(string line)
    {
        await SendAsync(Encoding.UTF8.GetBytes(line + "\n"));
        return await ReadReplyAsync();
    }

    private async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _job.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    private async Task<JsonElement> ReadReplyAsync()
    {
        var chunk = new byte[4096];
        while (!_pending.Contains((byte)'\n'))
        {
            var n = await _job.ReceiveAsync(chunk, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That(n, Is.Positive, "the host closed the channel without a reply");
            _pending.AddRange(chunk.AsSpan(0, n));
        }

        var end = _pending.IndexOf((byte)'\n');
        var line = _pending.GetRange(0, end).ToArray();
        _pending.RemoveRange(0, end + 1);
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
