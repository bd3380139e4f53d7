using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

public sealed class CancellationTests : ServerTestBase
{
    /// <summary>Maps "hang": waits until its token is cancelled and records that it was.</summary>
    private TaskCompletionSource StartHangingServer(Func<IpcServerOptions, IpcServerOptions>? configure = null, TimeSpan? methodTimeout = null)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartServer(configure, s => s.Map("hang", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult,
            async (_, _, ct) =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    cancelled.TrySetResult();
                }
                return new SumResult(0);
            }, methodTimeout));
        return cancelled;
    }

    private static Task<SumResult> HangAsync(JsonRpcClient client, TimeSpan? timeout = null, CancellationToken ct = default) =>
        client.CallAsync("hang", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult, timeout, ct);

    [Test]
    public async Task Method_over_its_server_side_timeout_replies_timeout_and_its_token_is_cancelled()
    {
        var cancelled = StartHangingServer(methodTimeout: TimeSpan.FromMilliseconds(200));
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => HangAsync(client, TimeSpan.FromSeconds(30)));

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.Timeout));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(Logger.WithEvent(IpcLogEvents.HandlerTimedOut), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Default_method_timeout_applies_to_methods_mapped_without_one()
    {
        StartHangingServer(o => o with { DefaultMethodTimeout = TimeSpan.FromMilliseconds(200) });
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => HangAsync(client, TimeSpan.FromSeconds(30)));

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.Timeout));
    }

    [Test]
    public async Task Handler_ignoring_its_token_still_gets_a_timeout_reply()
    {
        var release = new TaskCompletionSource();
        StartServer(map: s => s.Map("stubborn", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult,
            async (_, _, _) =>
            {
                await release.Task;
                return new SumResult(1);
            }, TimeSpan.FromMilliseconds(200)));
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.CallAsync("stubborn", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult, TimeSpan.FromSeconds(30)));
        var stillCounted = Server.ActiveRequests;
        release.SetResult();

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.Timeout));
        Assert.That(stillCounted, Is.EqualTo(1), "a handler that has not stopped still counts as in flight");
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 0), Is.True);
    }

    [Test]
    public async Task Client_timeout_throws_IpcTimeoutException_and_cancels_the_handler()
    {
        var cancelled = StartHangingServer(methodTimeout: Timeout.InfiniteTimeSpan);
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<IpcTimeoutException>(() => HangAsync(client, TimeSpan.FromMilliseconds(200)));

        Assert.That(ex!.Method, Is.EqualTo("hang"));
        Assert.That(ex.Message, Does.Contain(SocketPath));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(await AddAsync(client, 1, 1), Is.EqualTo(new SumResult(2)), "the connection survives a timed-out call");
    }

    [Test]
    public async Task Client_cancellation_throws_OperationCanceledException_and_cancels_the_handler()
    {
        var cancelled = StartHangingServer(methodTimeout: Timeout.InfiniteTimeSpan);
        var client = await ConnectAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        Assert.That(await Assert.ThrowsAsync(Is.InstanceOf<OperationCanceledException>(), () => HangAsync(client, Timeout.InfiniteTimeSpan, cts.Token)), Is.Not.Null);

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // A delegate: the value is read again at each poll (a plain value would be read once, before the server caught up).
        Assert.That(() => Server.ActiveRequests, Is.Zero.After(10).Seconds.PollEvery(10));
    }

    [Test]
    public async Task Client_disconnect_cancels_its_in_flight_handlers()
    {
        var cancelled = StartHangingServer(methodTimeout: Timeout.InfiniteTimeSpan);
        var client = await ConnectAsync();
        var call = HangAsync(client, Timeout.InfiniteTimeSpan);
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 1), Is.True);

        await client.DisposeAsync();

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(async () => await call, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public async Task Cancel_notification_only_reaches_calls_of_its_own_connection()
    {
        var cancelled = StartHangingServer(methodTimeout: Timeout.InfiniteTimeSpan);
        var victim = await ConnectRawAsync();
        var attacker = await ConnectRawAsync();
        await victim.SendFrameAsync("""{"jsonrpc":"2.0","id":1,"method":"hang","params":{"ms":0}}""");
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 1), Is.True);

        await attacker.SendFrameAsync("""{"jsonrpc":"2.0","method":"$/cancel","params":{"id":1}}""");
        await attacker.SendFrameAsync("""{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":1,"b":1}}""");
        await attacker.ReadReplyAsync();
        Assert.That(cancelled.Task.IsCompleted, Is.False, "another connection's $/cancel must not cancel this call");

        await victim.SendFrameAsync("""{"jsonrpc":"2.0","method":"$/cancel","params":{"id":1}}""");
        var reply = await victim.ReadReplyAsync();
        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.Cancelled));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Lost_connection_fails_every_pending_call_with_IpcException()
    {
        // A bare listener that takes both requests and then drops the connection without replying.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(SocketPath));
        listener.Listen();
        var client = await ConnectAsync();
        using var accepted = new RawConnection(await listener.AcceptAsync());
        var calls = new[] { HangAsync(client, Timeout.InfiniteTimeSpan), HangAsync(client, Timeout.InfiniteTimeSpan) };
        Assert.That(await accepted.ReadReplyAsync(), Is.Not.Null);
        Assert.That(await accepted.ReadReplyAsync(), Is.Not.Null);

        accepted.Socket.Close();

        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<IpcException>(() => call);
            Assert.That(ex!.Message, Does.Contain(SocketPath));
        }
        Assert.That(client.IsConnected, Is.False);
        Assert.That(async () => await AddAsync(client, 1, 1), Throws.InstanceOf<IpcException>());
    }

    [Test]
    public async Task Disposing_the_server_answers_running_calls_with_shutting_down_or_a_lost_connection()
    {
        StartHangingServer(methodTimeout: Timeout.InfiniteTimeSpan);
        var client = await ConnectAsync();
        var call = HangAsync(client, Timeout.InfiniteTimeSpan);
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 1), Is.True);

        await Server.DisposeAsync();

        var ex = await Assert.ThrowsAsync(Is.InstanceOf<Exception>(), () => call);
        Assert.That(ex is IpcException || ex is RpcException { Code: RpcErrorCodes.ShuttingDown }, Is.True, ex!.ToString());
    }
}
