namespace BoxBot.Hosting;

/// <summary>
/// The part of a daemon that is its own: what it starts besides the control socket, and how it
/// stops. <see cref="DaemonHost"/> calls these in order; every method may be a no-op.
/// </summary>
public interface IDaemonService : IAsyncDisposable
{
    /// <summary>Start serving (bind listeners, open storage, map extra methods on <see cref="DaemonContext.Server"/>).
    /// Throwing stops the daemon with the exception's message and exit code 1.</summary>
    Task StartAsync(DaemonContext context, CancellationToken cancellationToken);

    /// <summary>Shutdown phase "stop-accepting": close listeners; work in flight continues.</summary>
    Task StopAcceptingAsync(CancellationToken cancellationToken);

    /// <summary>Shutdown phase "drain": finish or hand back work in flight until the token fires.</summary>
    Task DrainAsync(CancellationToken cancellationToken);

    /// <summary>Adds daemon-specific facts to the <c>system.status</c> reply.</summary>
    void AddStatus(IDictionary<string, string> details);
}

/// <summary>A daemon with nothing of its own yet: only the control socket and <c>system.status</c>.</summary>
public sealed class NoService : IDaemonService
{
    public Task StartAsync(DaemonContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAcceptingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
