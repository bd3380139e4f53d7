using System.Buffers.Binary;
using System.Text;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

public sealed class FramingTests : ServerTestBase
{
    private const int OneMiB = 1024 * 1024;

    [Test]
    public async Task Frame_of_exactly_1_MiB_is_accepted()
    {
        StartServer();
        var raw = await ConnectRawAsync();
        const string prefix = """{"jsonrpc":"2.0","id":1,"method":"length","params":{"text":""" + "\"";
        const string suffix = "\"}}";
        var padding = OneMiB - prefix.Length - suffix.Length;
        var payload = Encoding.UTF8.GetBytes(prefix + new string('a', padding) + suffix);
        Assert.That(payload, Has.Length.EqualTo(OneMiB));

        await raw.SendFrameAsync(payload);
        var reply = await raw.ReadReplyAsync();

        Assert.That(reply.Result().GetProperty("length").GetInt32(), Is.EqualTo(padding));
    }

    [Test]
    public async Task Oversized_frame_closes_that_connection_and_the_server_keeps_serving_others()
    {
        StartServer();
        var bystander = await ConnectAsync();
        var attacker = await ConnectRawAsync();
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, OneMiB + 1);

        // Only the header: the server must decide on the announced length without waiting for a body.
        await attacker.SendRawAsync(header);

        Assert.That(await attacker.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(await Eventually.TrueAsync(() => Logger.WithEvent(IpcLogEvents.FrameTooLarge).Count == 1), Is.True);
        Assert.That(Logger.WithEvent(IpcLogEvents.FrameTooLarge)[0].Message, Does.Contain("1048577"));
        Assert.That(await AddAsync(bystander, 1, 2), Is.EqualTo(new SumResult(3)));
        var newcomer = await ConnectAsync();
        Assert.That(await AddAsync(newcomer, 3, 4), Is.EqualTo(new SumResult(7)));
    }

    [Test]
    public async Task Partial_frame_stalled_past_the_frame_timeout_closes_the_connection()
    {
        StartServer(o => o with { FrameReadTimeout = TimeSpan.FromMilliseconds(300) });
        var raw = await ConnectRawAsync();

        // Announce 100 bytes, send 10, then stall.
        var partial = new byte[14];
        BinaryPrimitives.WriteUInt32BigEndian(partial, 100);
        await raw.SendRawAsync(partial);

        Assert.That(await raw.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Logger.WithEvent(IpcLogEvents.FrameReadTimedOut), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Idle_connection_between_frames_is_not_timed_out()
    {
        StartServer(o => o with { FrameReadTimeout = TimeSpan.FromMilliseconds(100) });
        var client = await ConnectAsync();

        // Idle for several frame timeouts: only a started frame is on the clock.
        await Task.Delay(500);

        Assert.That(await AddAsync(client, 1, 1), Is.EqualTo(new SumResult(2)));
    }

    [Test]
    public async Task Malformed_json_replies_parse_error_and_the_same_connection_still_works()
    {
        StartServer();
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":1,"method":"add",""");
        var broken = await raw.ReadReplyAsync();
        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":2,"b":3}}""");
        var next = await raw.ReadReplyAsync();

        Assert.That(broken.ErrorCode(), Is.EqualTo(RpcErrorCodes.ParseError));
        Assert.That(broken.IdText(), Is.EqualTo("null"));
        Assert.That(next.Result().GetProperty("sum").GetInt32(), Is.EqualTo(5));
    }

    [TestCase(new byte[] { 0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D }, TestName = "Invalid_UTF8_inside_a_string_is_a_parse_error")]
    [TestCase(new byte[0], TestName = "Empty_frame_is_a_parse_error")]
    [TestCase(new byte[] { 0x7B, 0x7D, 0x7B, 0x7D }, TestName = "Two_JSON_values_in_one_frame_are_a_parse_error")]
    public async Task Frame_that_is_not_one_UTF8_JSON_value_is_a_parse_error(byte[] payload)
    {
        StartServer();
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync(payload);

        Assert.That((await raw.ReadReplyAsync()).ErrorCode(), Is.EqualTo(RpcErrorCodes.ParseError));
    }

    [TestCase("""{"id":1,"method":"add"}""", "1", TestName = "Request_without_jsonrpc_is_invalid")]
    [TestCase("""{"jsonrpc":"1.0","id":1,"method":"add"}""", "1", TestName = "Request_with_jsonrpc_1_0_is_invalid")]
    [TestCase("""{"jsonrpc":2.0,"id":1,"method":"add"}""", "1", TestName = "Request_with_numeric_jsonrpc_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":1}""", "1", TestName = "Request_without_method_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":5}""", "1", TestName = "Request_with_numeric_method_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":{"x":1},"method":"add"}""", "null", TestName = "Request_with_object_id_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":true,"method":"add"}""", "null", TestName = "Request_with_boolean_id_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}""", "1", TestName = "Request_with_array_params_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"add","params":"a=1"}""", "1", TestName = "Request_with_string_params_is_invalid")]
    [TestCase("""{"jsonrpc":"2.0","id":1,"method":"nope","method":"add"}""", "null", TestName = "Request_with_a_repeated_member_is_invalid")]
    [TestCase("\"add\"", "null", TestName = "Request_that_is_a_string_is_invalid")]
    [TestCase("42", "null", TestName = "Request_that_is_a_number_is_invalid")]
    public async Task Invalid_envelope_replies_invalid_request_and_the_connection_stays_usable(string json, string expectedId)
    {
        StartServer();
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync(json);
        var reply = await raw.ReadReplyAsync();
        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":99,"method":"add","params":{"a":1,"b":1}}""");
        var next = await raw.ReadReplyAsync();

        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.InvalidRequest));
        Assert.That(reply.IdText(), Is.EqualTo(expectedId));
        Assert.That(next.Result().GetProperty("sum").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public async Task Batch_is_refused_as_invalid_request()
    {
        var calls = 0;
        StartServer(map: s => s.Map("count", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult,
            (_, _, _) => ValueTask.FromResult(new TextResult((++calls).ToString()))));
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""[{"jsonrpc":"2.0","id":1,"method":"count","params":{"text":""}}]""");
        var reply = await raw.ReadReplyAsync();

        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.InvalidRequest));
        Assert.That(reply.ErrorMessage(), Is.EqualTo("batches are not supported"));
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public async Task Reused_id_of_a_request_in_flight_is_refused()
    {
        var release = new TaskCompletionSource();
        StartServer(map: s => s.Map("wait", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult,
            async (_, _, ct) =>
            {
                await release.Task.WaitAsync(ct);
                return new SumResult(1);
            }));
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":"a","method":"wait","params":{"ms":0}}""");
        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":"a","method":"wait","params":{"ms":0}}""");
        var duplicate = await raw.ReadReplyAsync();
        release.SetResult();
        var original = await raw.ReadReplyAsync();

        Assert.That(duplicate.ErrorCode(), Is.EqualTo(RpcErrorCodes.InvalidRequest));
        Assert.That(original.Result().GetProperty("sum").GetInt32(), Is.EqualTo(1));
    }
}
