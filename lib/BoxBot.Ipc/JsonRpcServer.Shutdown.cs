using BoxBot.Ipc.Internal;

namespace BoxBot.Ipc;

public sealed partial class JsonRpcServer
{
    /// <summary>
    /// Phase 1: closes the listener and unlinks the socket file. Open connections stay open;
    /// requests already running continue, new ones get ShuttingDown. Idempotent.
    /// </summary>
    public Task StopAcceptingAsync()
    {
        lock (_lifecycle)
        {
            _stopping = true;
            return _stopTask ??= StopListenerAsync();
        }
    }

    private async Task StopListenerAsync()
    {
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        if (_listener is { } listener)
        {
            listener.Dispose();
            await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            SocketFile.DeleteIfSame(SocketPath, _socketIdentity);
            Log.StoppedAccepting(Logger, SocketPath, ActiveRequests);
        }
    }

    /// <summary>
    /// Phase 2: waits for in-flight requests (stopping accepting first if that has not happened).
    /// When <paramref name="budget"/> runs out their tokens are cancelled and the result is false.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan budget)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        try
        {
            await Tracker.WhenIdleAsync().WaitAsync(budget).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            Log.DrainTimedOut(Logger, SocketPath, budget, ActiveRequests);
            await _abortRequests.CancelAsync().ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Phase 3: stops accepting, cancels every request and closes every connection. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopAcceptingAsync().ConfigureAwait(false);
        await _abortRequests.CancelAsync().ConfigureAwait(false);
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
        // Connection loops end as soon as their sockets close; a bound keeps a wedged one from hanging shutdown.
        var loops = Task.WhenAll(_connections.Values);
        await loops.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
