using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

/// <summary>The blocking one-call client the <c>boxbot</c> command uses, against the same real server.</summary>
public sealed class CallOnceTests : ServerTestBase
{
    private SumResult Add(int a, int b, TimeSpan? timeout = null, CancellationToken ct = default) =>
        JsonRpcClient.CallOnce(SocketPath, "add", new AddParams(a, b), TestJson.Default.AddParams, TestJson.Default.SumResult,
            timeout ?? TimeSpan.FromSeconds(10), ct);

    private TaskCompletionSource StartHangingServer()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartServer(map: s => s.Map("hang", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult,
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
            }, Timeout.InfiniteTimeSpan));
        return cancelled;
    }

    private SumResult Hang(TimeSpan timeout, CancellationToken ct = default) =>
        JsonRpcClient.CallOnce(SocketPath, "hang", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult, timeout, ct);

    [Test]
    public void A_call_round_trips_params_and_result_and_leaves_no_connection_behind()
    {
        StartServer();

        var sum = Add(2, 40);
        var text = JsonRpcClient.CallOnce(SocketPath, "echo", new TextParams("héllo ✓"), TestJson.Default.TextParams, TestJson.Default.TextResult, TimeSpan.FromSeconds(10));

        Assert.That(sum, Is.EqualTo(new SumResult(42)));
        Assert.That(text.Text, Is.EqualTo("héllo ✓"));
        Assert.That(() => Server.ActiveConnections, Is.Zero.After(10).Seconds.PollEvery(10));
    }

    [Test]
    public void An_error_reply_is_an_RpcException_with_the_servers_code_and_message()
    {
        StartServer();

        var ex = Assert.Throws<RpcException>(() =>
            JsonRpcClient.CallOnce(SocketPath, "nope", new EmptyParams(), ContractsJsonContext.Default.EmptyParams, TestJson.Default.SumResult, TimeSpan.FromSeconds(10)));

        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.MethodNotFound));
        Assert.That(ex.Message, Does.Contain("nope"));
    }

    [Test]
    public void No_server_is_an_IpcConnectException_naming_the_socket()
    {
        var ex = Assert.Throws<IpcConnectException>(() => Add(1, 1));

        Assert.That(ex!.Reason, Is.EqualTo(IpcConnectFailure.SocketMissing));
        Assert.That(ex.Message, Does.Contain(SocketPath));
    }

    [Test]
    public async Task A_reply_later_than_the_timeout_is_an_IpcTimeoutException_and_the_server_cancels_the_call()
    {
        var cancelled = StartHangingServer();

        var ex = Assert.Throws<IpcTimeoutException>(() => Hang(TimeSpan.FromMilliseconds(200)));

        Assert.That(ex!.Method, Is.EqualTo("hang"));
        Assert.That(ex.Message, Does.Contain(SocketPath));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Cancelling_closes_the_connection_so_the_server_cancels_the_call_even_with_no_timeout()
    {
        var cancelled = StartHangingServer();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        Assert.Throws(Is.InstanceOf<OperationCanceledException>(), () => Hang(Timeout.InfiniteTimeSpan, cts.Token));

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // A delegate: the value is read again at each poll (a plain value would be read once, before the server caught up).
        Assert.That(() => Server.ActiveRequests, Is.Zero.After(10).Seconds.PollEvery(10));
    }

    [Test]
    public void A_frame_over_the_limit_is_refused_before_connecting()
    {
        // No server at all: the refusal comes before the connection would have failed.

        var ex = Assert.Throws<IpcException>(() => JsonRpcClient.CallOnce(SocketPath, "echo", new TextParams(new string('x', 1 << 20)),
            TestJson.Default.TextParams, TestJson.Default.TextResult, TimeSpan.FromSeconds(10)));

        Assert.That(ex, Is.Not.InstanceOf<IpcConnectException>());
        Assert.That(ex!.Message, Does.Contain("1 MiB"));
    }
}
