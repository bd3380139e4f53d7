using System.Net.Sockets;
using BoxBot.Contracts;
using BoxBot.Ipc.Internal;

namespace BoxBot.Ipc;

public sealed partial class JsonRpcServer
{
    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        // Off the caller's thread: Start returns at once.
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // EMFILE and friends: back off instead of spinning, then keep serving.
                Log.AcceptFailed(Logger, SocketPath, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            OnAccepted(socket);
        }
    }

    private void OnAccepted(Socket socket)
    {
        PeerCredentials peer;
        try
        {
            peer = PeerCredentialReader.ReadPeer(socket, out _);
        }
        catch (IpcException ex)
        {
            // Without credentials no policy can be checked: refuse the connection.
            Log.PeerCredentialsFailed(Logger, SocketPath, ex.Message);
            socket.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _connectionCount) > Options.MaxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            Log.ConnectionRejectedBusy(Logger, peer.Pid, peer.Uid, peer.Gid, Options.MaxConnections, SocketPath);
            _ = RejectBusyAsync(socket);
            return;
        }

        Log.ConnectionOpened(Logger, peer.Pid, peer.Uid, peer.Gid, SocketPath);
        var connection = new ServerConnection(this, socket, peer);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Registered before it runs, so DisposeAsync always sees it.
        _connections[connection] = RunConnectionAsync(connection, gate.Task);
        gate.SetResult();
        if (_disposed != 0)
        {
            connection.Abort();
        }
    }

    private async Task RunConnectionAsync(ServerConnection connection, Task gate)
    {
        await gate.ConfigureAwait(false);
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            Interlocked.Decrement(ref _connectionCount);
        }
    }

    private async Task RejectBusyAsync(Socket socket)
    {
        var frame = Envelope.ErrorFrame(RequestId.Null, RpcErrorCodes.Busy,
            $"server busy: it already has {Options.MaxConnections} connections; try again later");
        using var timeout = new CancellationTokenSource(Options.FrameReadTimeout);
        try
        {
            await socket.SendAsync(frame, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone or not reading; closing is all that is left to do.
        }
        finally
        {
            socket.Dispose();
        }
    }
}
