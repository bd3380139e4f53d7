using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Ipc.Internal;

internal sealed partial class ServerConnection
{
    private async Task RunCallAsync(MethodEntry entry, Request request, JsonDocument document, InFlightCall call)
    {
        var peer = Peer;
        Task<byte[]>? handler = null;
        try
        {
            if (entry.Timeout != Timeout.InfiniteTimeSpan)
            {
                call.Cts.CancelAfter(entry.Timeout);
            }
            byte[]? reply;
            try
            {
                handler = entry.InvokeAsync(request.Params, new RpcContext(peer, entry.Name), call.Cts.Token);
                // WaitAsync: the caller gets its Timeout reply even from a handler that ignores its token.
                var result = await handler.WaitAsync(call.Cts.Token).ConfigureAwait(false);
                reply = request.Id is { } id ? ResultReply(entry, id, result) : null;
            }
            catch (InvalidParamsException ex)
            {
                reply = ErrorReply(request, RpcErrorCodes.InvalidParams, ex.Message);
            }
            catch (RpcException ex)
            {
                reply = ErrorReply(request, ex.Code, ex.Message);
            }
            catch (OperationCanceledException) when (call.Cts.IsCancellationRequested)
            {
                reply = CancelledReply(entry, request, call);
            }
            catch (Exception ex)
            {
                Log.HandlerFailed(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, ex);
                reply = ErrorReply(request, RpcErrorCodes.InternalError, "internal error");
            }
            if (reply is not null)
            {
                await SendAsync(reply).ConfigureAwait(false);
            }
        }
        finally
        {
            // The slot stays taken until the handler really stops, so the limit bounds running work.
            if (handler is { IsCompleted: false })
            {
                await ((Task)handler).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (request.Id?.Key is { } key)
            {
                _inFlight.TryRemove(new KeyValuePair<string, InFlightCall>(key, call));
            }
            call.Cts.Dispose();
            document.Dispose();
            _slots.Release();
            _server.Tracker.Exit();
        }
    }

    private byte[]? ResultReply(MethodEntry entry, RequestId id, byte[] result)
    {
        var frame = Envelope.ResultFrame(id, result);
        if (frame.Length - Framing.HeaderSize <= Framing.MaxPayload)
        {
            return frame;
        }
        Log.ResultTooLarge(_server.Logger, entry.Name, frame.Length - Framing.HeaderSize);
        return Envelope.ErrorFrame(id, RpcErrorCodes.InternalError, "internal error: the result is larger than the 1 MiB frame limit");
    }

    private static byte[]? ErrorReply(in Request request, int code, string message) =>
        request.Id is { } id ? Envelope.ErrorFrame(id, code, message) : null;

    private byte[]? CancelledReply(MethodEntry entry, in Request request, InFlightCall call)
    {
        var peer = Peer;
        if (call.CancelledByCaller)
        {
            Log.CallCancelled(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, "the caller sent $/cancel");
            return ErrorReply(request, RpcErrorCodes.Cancelled, "cancelled by the caller");
        }
        if (_cts.IsCancellationRequested)
        {
            Log.CallCancelled(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, "the connection closed");
            return null;
        }
        if (_server.AbortRequestsToken.IsCancellationRequested)
        {
            Log.CallCancelled(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, "the server is shutting down");
            return ErrorReply(request, RpcErrorCodes.ShuttingDown, "the server is shutting down; the request was cancelled");
        }
        Log.HandlerTimedOut(_server.Logger, entry.Name, peer.Pid, peer.Uid, peer.Gid, entry.Timeout);
        return ErrorReply(request, RpcErrorCodes.Timeout, $"{entry.Name} did not finish within {entry.Timeout.TotalSeconds:0.###} s");
    }
}
