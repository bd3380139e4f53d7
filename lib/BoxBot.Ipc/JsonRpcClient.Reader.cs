using System.Net.Sockets;
using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.Ipc.Internal;

namespace BoxBot.Ipc;

public sealed partial class JsonRpcClient
{
    // A reply that has started must finish in this time; idle waits between replies are unlimited.
    private static readonly TimeSpan ReplyFrameTimeout = TimeSpan.FromSeconds(30);

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        await Task.Yield();
        Exception verdict = Lost("the server closed the connection");
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var frame = await Framing.ReadAsync(_stream, ReplyFrameTimeout, ct).ConfigureAwait(false);
                if (frame.Status != FrameStatus.Frame)
                {
                    verdict = frame.Status switch
                    {
                        FrameStatus.TooLarge => Lost($"the server sent a {frame.Length}-byte frame, over the 1 MiB limit"),
                        FrameStatus.TimedOut => Lost("a reply frame stalled"),
                        _ => _terminal ?? verdict,
                    };
                    return;
                }
                try
                {
                    using var document = Envelope.ParseDocument(frame.Payload);
                    if (!Dispatch(document.RootElement))
                    {
                        verdict = _terminal ?? Lost("the server sent a reply that is not JSON-RPC 2.0");
                        return;
                    }
                }
                catch (JsonException)
                {
                    verdict = Lost("the server sent a frame that is not JSON");
                    return;
                }
                finally
                {
                    frame.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            verdict = new ObjectDisposedException(nameof(JsonRpcClient), $"The client for {SocketPath} was disposed.");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            verdict = Lost(ex.Message);
        }
        finally
        {
            _terminal ??= verdict;
            var final = _terminal;
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var call))
                {
                    call.TrySetException(Rethrowable(final));
                }
            }
            // Closing our side too keeps a half-dead socket from lingering until DisposeAsync.
            _socket.Dispose();
        }
    }

    /// <summary>Routes one reply. Returns false when the frame makes no sense (the connection is then dropped).</summary>
    private bool Dispatch(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id"u8, out var idElement))
        {
            return false;
        }
        RpcException? error = null;
        if (root.TryGetProperty("error"u8, out var errorElement))
        {
            var code = errorElement.ValueKind == JsonValueKind.Object && errorElement.TryGetProperty("code"u8, out var c) && c.TryGetInt32(out var n)
                ? n : RpcErrorCodes.InternalError;
            var message = errorElement.ValueKind == JsonValueKind.Object && errorElement.TryGetProperty("message"u8, out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()! : RpcErrorCodes.Describe(code);
            error = new RpcException(code, message);
        }

        if (idElement.ValueKind == JsonValueKind.Null)
        {
            // An error with id null concerns the connection (Busy when the server is full): it ends every call.
            if (error is not null)
            {
                _terminal ??= error;
            }
            return error is not null;
        }
        if (!idElement.TryGetInt64(out var id))
        {
            return false;
        }
        if (!_pending.TryRemove(id, out var call))
        {
            // A call that timed out or was cancelled: its late answer is dropped.
            return true;
        }
        if (error is not null)
        {
            call.TrySetException(error);
        }
        else if (root.TryGetProperty("result"u8, out var result))
        {
            call.TrySetResult(result.Clone());
        }
        else
        {
            call.TrySetException(Lost("the server sent a reply with neither result nor error"));
        }
        return true;
    }

    private IpcException Lost(string why) =>
        new($"Lost the connection to {SocketPath}: {why}.") { SocketPath = SocketPath };

    /// <summary>A fresh exception per thrower, so one caller's stack trace does not leak into another's.</summary>
    private Exception Rethrowable(Exception terminal) => terminal switch
    {
        RpcException rpc => new RpcException(rpc.Code, rpc.Message),
        ObjectDisposedException => new ObjectDisposedException(nameof(JsonRpcClient), $"The client for {SocketPath} was disposed."),
        IpcException ipc => new IpcException(ipc.Message, ipc.InnerException) { SocketPath = SocketPath },
        _ => terminal,
    };
}
