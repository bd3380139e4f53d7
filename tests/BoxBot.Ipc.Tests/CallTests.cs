using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

public sealed class CallTests : ServerTestBase
{
    [Test]
    public async Task Typed_call_round_trips_params_and_result()
    {
        StartServer();
        var client = await ConnectAsync();

        var reply = await client.CallAsync("echo", new TextParams("héllo ✓"), TestJson.Default.TextParams, TestJson.Default.TextResult);
        var sum = await AddAsync(client, 2, 40);

        Assert.That(reply.Text, Is.EqualTo("héllo ✓"));
        Assert.That(sum.Sum, Is.EqualTo(42));
    }

    [Test]
    public async Task Handler_sees_the_callers_kernel_credentials()
    {
        StartServer();
        var client = await ConnectAsync();

        var peer = await client.CallAsync("whoami", new EmptyParams(), ContractsJsonContext.Default.EmptyParams, TestJson.Default.PeerResult);

        Assert.That(peer.Pid, Is.EqualTo(Environment.ProcessId));
        Assert.That(peer.Groups, Does.Contain(peer.Gid));
    }

    [Test]
    public async Task Concurrent_calls_on_one_connection_each_get_their_own_reply()
    {
        // Replies come back out of order (later calls sleep less), so matching by id is what is tested.
        StartServer(map: s => s.Map("slow-add", Anyone, TestJson.Default.AddParams, TestJson.Default.SumResult,
            async (p, _, ct) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 * (20 - p.A)), ct);
                return new SumResult(p.A + p.B);
            }));
        var client = await ConnectAsync();

        var calls = Enumerable.Range(0, 20)
            .Select(i => client.CallAsync("slow-add", new AddParams(i, 1000), TestJson.Default.AddParams, TestJson.Default.SumResult))
            .ToArray();
        var results = await Task.WhenAll(calls);

        Assert.That(results.Select(r => r.Sum), Is.EqualTo(Enumerable.Range(1000, 20)));
    }

    [Test]
    public async Task Several_clients_are_served_at_once()
    {
        StartServer();
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ConnectAsync()));

        var sums = await Task.WhenAll(clients.Select((c, i) => AddAsync(c, i, i)));

        Assert.That(sums.Select(s => s.Sum), Is.EqualTo(Enumerable.Range(0, 8).Select(i => 2 * i)));
        Assert.That(Server.ActiveConnections, Is.EqualTo(8));
    }

    [Test]
    public async Task Requests_beyond_the_per_connection_limit_wait_for_a_slot()
    {
        var running = 0;
        var peak = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartServer(o => o with { MaxConcurrentRequestsPerConnection = 2 }, s => s.Map("busy", Anyone,
            TestJson.Default.DelayParams, TestJson.Default.SumResult, async (_, _, ct) =>
            {
                InterlockedMax(ref peak, Interlocked.Increment(ref running));
                await gate.Task.WaitAsync(ct);
                Interlocked.Decrement(ref running);
                return new SumResult(0);
            }));
        var client = await ConnectAsync();

        var calls = Enumerable.Range(0, 6)
            .Select(_ => client.CallAsync("busy", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult))
            .ToArray();
        Assert.That(await Eventually.TrueAsync(() => Volatile.Read(ref running) == 2), Is.True);
        // Give a third request every chance to slip in while two hold their slots.
        await Task.Delay(200);
        var peakWhileBlocked = Volatile.Read(ref peak);
        gate.SetResult();
        await Task.WhenAll(calls);

        Assert.That(peakWhileBlocked, Is.EqualTo(2));
        Assert.That(peak, Is.EqualTo(2));
    }

    [Test]
    public async Task Unknown_method_replies_method_not_found()
    {
        StartServer();
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.CallAsync("no.such", new TextParams("x"), TestJson.Default.TextParams, TestJson.Default.TextResult));

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.MethodNotFound));
        Assert.That(await AddAsync(client, 1, 1), Is.EqualTo(new SumResult(2)));
    }

    [Test]
    public async Task Params_of_the_wrong_type_reply_invalid_params_naming_the_field()
    {
        StartServer();
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":7,"method":"add","params":{"a":"seven","b":1}}""");
        var reply = await raw.ReadReplyAsync();

        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.InvalidParams));
        Assert.That(reply.ErrorMessage(), Does.Contain("$.a"));
        Assert.That(reply.ErrorMessage(), Does.Not.Contain(" at "), "no stack trace");
        Assert.That(reply.IdText(), Is.EqualTo("7"));
    }

    [Test]
    public async Task Missing_params_are_read_as_an_empty_object()
    {
        StartServer();
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":"x","method":"add"}""");
        var reply = await raw.ReadReplyAsync();

        Assert.That(reply.Result().GetProperty("sum").GetInt32(), Is.EqualTo(0));
        Assert.That(reply.IdText(), Is.EqualTo("\"x\""));
    }

    [Test]
    public async Task Handler_exception_replies_internal_error_without_its_text_and_logs_it()
    {
        StartServer(map: s => s.Map("explode", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult,
            (_, _, _) => throw new InvalidOperationException("db password is hunter2")));
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.CallAsync("explode", new TextParams("x"), TestJson.Default.TextParams, TestJson.Default.TextResult));

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.InternalError));
        Assert.That(ex.Message, Does.Not.Contain("hunter2"));
        Assert.That(Logger.WithEvent(IpcLogEvents.HandlerFailed).Single().Exception!.Message, Does.Contain("hunter2"));
    }

    [Test]
    public async Task Handler_rpc_exception_becomes_that_error_reply()
    {
        StartServer(map: s => s.Map("refuse", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult,
            (_, _, _) => throw new RpcException(RpcErrorCodes.Busy, "queue full")));
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.CallAsync("refuse", new TextParams("x"), TestJson.Default.TextParams, TestJson.Default.TextResult));

        Assert.That((ex!.Code, ex.Message), Is.EqualTo((RpcErrorCodes.Busy, "queue full")));
    }

    [Test]
    public async Task Notification_runs_the_handler_and_gets_no_reply()
    {
        var ran = new TaskCompletionSource<string>();
        StartServer(map: s => s.Map("note", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult,
            (p, _, _) =>
            {
                ran.TrySetResult(p.Text);
                return ValueTask.FromResult(new TextResult("ignored"));
            }));
        var raw = await ConnectRawAsync();

        await raw.SendFrameAsync("""{"jsonrpc":"2.0","method":"note","params":{"text":"hi"}}""");
        Assert.That(await ran.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("hi"));
        await raw.SendFrameAsync("""{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":1,"b":1}}""");
        var next = await raw.ReadReplyAsync();

        Assert.That(next.IdText(), Is.EqualTo("2"), "the first frame on the wire answers the request, not the notification");
    }

    [Test]
    public void Mapping_a_method_twice_or_a_reserved_name_is_refused()
    {
        CreateServer();
        Server.Map("echo", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult, (p, _, _) => ValueTask.FromResult(new TextResult(p.Text)));

        Assert.Throws<ArgumentException>(() => Server.Map("echo", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult, (p, _, _) => ValueTask.FromResult(new TextResult(p.Text))));
        Assert.Throws<ArgumentException>(() => Server.Map("$/cancel", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult, (p, _, _) => ValueTask.FromResult(new TextResult(p.Text))));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
