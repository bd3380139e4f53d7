using System.Diagnostics;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

public sealed class LifecycleTests : ServerTestBase
{
    [Test]
    public void Socket_file_mode_is_0660_after_start()
    {
        StartServer();

        Assert.That(File.GetUnixFileMode(SocketPath), Is.EqualTo(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
    }

    [Test]
    public void Socket_file_gets_the_configured_mode()
    {
        StartServer(o => o with { SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });

        Assert.That(File.GetUnixFileMode(SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task Stale_socket_file_is_replaced()
    {
        LeaveStaleSocket(SocketPath);
        var refused = await Assert.ThrowsAsync<IpcConnectException>(() => JsonRpcClient.ConnectAsync(SocketPath));
        Assert.That(refused!.Reason, Is.EqualTo(IpcConnectFailure.ConnectionRefused));

        StartServer();
        var client = await ConnectAsync();

        Assert.That(await AddAsync(client, 1, 1), Is.EqualTo(new SumResult(2)));
        Assert.That(Logger.WithEvent(IpcLogEvents.StaleSocketRemoved), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Second_server_on_a_live_socket_fails_and_leaves_the_first_serving()
    {
        StartServer();
        await using var second = new JsonRpcServer(new IpcServerOptions { SocketPath = SocketPath }, new CapturingLogger());

        var ex = Assert.Throws<IpcException>(second.Start);

        Assert.That(ex!.Message, Does.Contain("another server is listening on " + SocketPath));
        var client = await ConnectAsync();
        Assert.That(await AddAsync(client, 2, 2), Is.EqualTo(new SumResult(4)));
    }

    [Test]
    public void Regular_file_at_the_socket_path_is_refused_and_kept()
    {
        File.WriteAllText(SocketPath, "not a socket");
        CreateServer();

        var ex = Assert.Throws<IpcException>(Server.Start);

        Assert.That(ex!.Message, Does.Contain(SocketPath).And.Contain("regular file"));
        Assert.That(File.ReadAllText(SocketPath), Is.EqualTo("not a socket"));
    }

    [Test]
    public void Symlink_at_the_socket_path_is_refused_and_kept_even_when_it_points_at_a_stale_socket()
    {
        var target = Path.Combine(TempDir.FullName, "target.sock");
        LeaveStaleSocket(target);
        File.CreateSymbolicLink(SocketPath, target);
        CreateServer();

        Assert.Throws<IpcException>(Server.Start);

        Assert.That(new FileInfo(SocketPath).LinkTarget, Is.EqualTo(target));
        Assert.That(File.Exists(target), Is.True);
    }

    [Test]
    public async Task Missing_socket_directory_is_an_error_naming_it()
    {
        var path = Path.Combine(TempDir.FullName, "absent", "t.sock");
        await using var server = new JsonRpcServer(new IpcServerOptions { SocketPath = path }, Logger);

        var ex = Assert.Throws<IpcException>(server.Start);

        Assert.That(ex!.Message, Does.Contain(Path.GetDirectoryName(path)).And.Contain("does not exist"));
        Assert.That(Directory.Exists(Path.GetDirectoryName(path)), Is.False, "the server must not create the directory");
    }

    [Test]
    public void Unknown_socket_group_fails_start_naming_group_and_path_and_leaves_no_socket()
    {
        CreateServer(o => o with { SocketGroup = "bbtest-no-such-group" });

        var ex = Assert.Throws<IpcException>(Server.Start);

        Assert.That(ex!.Message, Does.Contain("bbtest-no-such-group").And.Contain(SocketPath));
        Assert.That(File.Exists(SocketPath), Is.False);
    }

    [Test]
    public async Task Connecting_to_a_missing_socket_says_so()
    {
        var ex = await Assert.ThrowsAsync<IpcConnectException>(() => JsonRpcClient.ConnectAsync(SocketPath));

        Assert.That(ex!.Reason, Is.EqualTo(IpcConnectFailure.SocketMissing));
        Assert.That(ex.Message, Does.Contain(SocketPath).And.Contain("does not exist"));
    }

    [Test]
    public async Task Stop_accepting_removes_the_socket_file_and_new_requests_get_shutting_down()
    {
        StartServer();
        var open = await ConnectAsync();
        // One call first: a connection still in the listen backlog is reset when the listener closes.
        await AddAsync(open, 0, 0);

        await Server.StopAcceptingAsync();

        Assert.That(File.Exists(SocketPath), Is.False);
        Assert.That(Server.IsAccepting, Is.False);
        var ex = await Assert.ThrowsAsync<RpcException>(() => AddAsync(open, 1, 1));
        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.ShuttingDown));
        var connect = await Assert.ThrowsAsync<IpcConnectException>(() => JsonRpcClient.ConnectAsync(SocketPath));
        Assert.That(connect!.Reason, Is.EqualTo(IpcConnectFailure.SocketMissing));
    }

    [Test]
    public async Task Drain_waits_for_an_in_flight_slow_handler()
    {
        var release = new TaskCompletionSource();
        var finished = false;
        StartServer(map: s => s.Map("slow", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult, async (_, _, ct) =>
        {
            await release.Task.WaitAsync(ct);
            await Task.Delay(50, ct);
            finished = true;
            return new SumResult(7);
        }));
        var client = await ConnectAsync();
        var call = client.CallAsync("slow", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult);
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 1), Is.True);

        var drain = Server.DrainAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(100);
        Assert.That(drain.IsCompleted, Is.False, "drain must wait while the handler runs");
        release.SetResult();

        Assert.That(await drain, Is.True);
        Assert.That(finished, Is.True);
        Assert.That(await call, Is.EqualTo(new SumResult(7)));
    }

    [Test]
    public async Task Drain_past_its_budget_cancels_handlers_and_returns_false()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartServer(map: s => s.Map("hang", Anyone, TestJson.Default.DelayParams, TestJson.Default.SumResult, async (_, _, ct) =>
        {
            using var _ = ct.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return new SumResult(0);
        }, Timeout.InfiniteTimeSpan));
        var client = await ConnectAsync();
        var call = client.CallAsync("hang", new DelayParams(0), TestJson.Default.DelayParams, TestJson.Default.SumResult, Timeout.InfiniteTimeSpan);
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveRequests == 1), Is.True);

        Assert.That(await Server.DrainAsync(TimeSpan.FromMilliseconds(200)), Is.False);

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.ShuttingDown));
        Assert.That(Logger.WithEvent(IpcLogEvents.DrainTimedOut), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task DisposeAsync_twice_is_fine_and_removes_the_socket()
    {
        StartServer();
        await ConnectAsync();

        await Server.DisposeAsync();
        await Server.DisposeAsync();

        Assert.That(File.Exists(SocketPath), Is.False);
        Assert.That(Server.ActiveConnections, Is.Zero);
    }

    [Test]
    public async Task Connections_beyond_the_maximum_get_busy_then_close()
    {
        StartServer(o => o with { MaxConnections = 2 });
        var first = await ConnectAsync();
        var second = await ConnectAsync();
        await AddAsync(first, 0, 0);
        await AddAsync(second, 0, 0);

        var third = await ConnectRawAsync();
        var reply = await third.ReadReplyAsync();

        Assert.That(reply.ErrorCode(), Is.EqualTo(RpcErrorCodes.Busy));
        Assert.That(reply.IdText(), Is.EqualTo("null"));
        Assert.That(await third.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Logger.WithEvent(IpcLogEvents.ConnectionRejectedBusy), Has.Count.EqualTo(1));
        var fourth = await JsonRpcClient.ConnectAsync(SocketPath);
        await using (fourth)
        {
            var busy = await Assert.ThrowsAsync<RpcException>(() => AddAsync(fourth, 1, 1));
            Assert.That(busy!.Code, Is.EqualTo(RpcErrorCodes.Busy));
        }

        await first.DisposeAsync();
        Assert.That(await Eventually.TrueAsync(() => Server.ActiveConnections == 1), Is.True);
        var later = await ConnectAsync();
        Assert.That(await AddAsync(later, 2, 3), Is.EqualTo(new SumResult(5)), "a freed slot is usable again");
    }

    /// <summary>A socket file nobody listens on, as a crashed daemon leaves behind.</summary>
    internal static void LeaveStaleSocket(string path)
    {
        using var python = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList = { "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", path },
        })!;
        python.WaitForExit();
        Assert.That(python.ExitCode, Is.Zero);
        Assert.That(File.Exists(path), Is.True);
    }
}
