using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Tasks;

/// <summary>
/// Fires due tasks. A loop on the injected clock sleeps until the next due time (at most a minute, and less when the
/// store reports a change or <see cref="Poke"/> is called), then hands each due task to <c>fire</c>, one at a time, and
/// marks it fired only after <c>fire</c> returns. Delivery is therefore at least once: a crash or shutdown while
/// <c>fire</c> runs leaves the task due, and it fires again after the restart. <c>fire</c> should return once the task is
/// durably handed over (its conversation and first message recorded), not after the whole conversation, so one slow
/// task does not hold up the rest. A <c>fire</c> that throws is logged and the task counts as fired, so a task that
/// always fails does not fire again on every wake.
/// </summary>
public sealed partial class TaskScheduler
{
    /// <summary>The longest the loop sleeps without looking at the store.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(1);

    private readonly TaskStore _store;
    private readonly TimeProvider _time;
    private readonly Func<TaskItem, CancellationToken, Task> _fire;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _poke = new(0, 1);

    /// <param name="fire">Starts a task's run (the engine: a <c>task:&lt;id&gt;</c> conversation).</param>
    public TaskScheduler(TaskStore store, TimeProvider time, Func<TaskItem, CancellationToken, Task> fire, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time;
        _fire = fire;
        _log = log;
        _store.Changed += Poke;
    }

    /// <summary>Wakes the loop to look at the store again (a task was added or changed). Cheap; any thread.</summary>
    public void Poke()
    {
        try
        {
            _poke.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already poked: one wake covers every change before it.
        }
    }

    /// <summary>The loop; returns when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var sleep = MaxSleep;
            try
            {
                await RunDueAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                if (_store.NextDue() is { } next)
                {
                    var until = next - _time.GetUtcNow();
                    sleep = until < TimeSpan.Zero ? TimeSpan.Zero : until < MaxSleep ? until : MaxSleep;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The database, most likely: try again at the next wake rather than spin.
                LogLoopFailed(_log, e.Message);
            }
            if (!await WaitAsync(sleep, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Fires every task due at <paramref name="now"/>, earliest first, each marked fired (at <paramref name="now"/> or the
    /// clock's time, whichever is later) after <c>fire</c> returns; the loop calls this on every wake, tests call it
    /// directly. The store is asked again before each task, so one closed or changed while another fired is seen as it
    /// is now. Returns how many fired.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled: the task being fired is not marked, and fires again later.</exception>
    internal async Task<int> RunDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Marking moves a task out of the due set; the ids fired in this pass guard against one that would not leave it.
        var fired = new HashSet<long>();
        while (_store.Due(now).FirstOrDefault(t => !fired.Contains(t.Id)) is { } task)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await _fire(task, cancellationToken).ConfigureAwait(false);
                LogFired(_log, task.Id, task.Owner);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogFireFailed(_log, task.Id, task.Owner, e.Message);
            }
            fired.Add(task.Id);
            var clock = _time.GetUtcNow();
            _store.MarkFired(task.Id, clock > now ? clock : now);
        }
        return fired.Count;
    }

    /// <summary>Sleeps for <paramref name="sleep"/> or until poked; false when cancelled.</summary>
    private async Task<bool> WaitAsync(TimeSpan sleep, CancellationToken cancellationToken)
    {
        if (sleep <= TimeSpan.Zero)
        {
            return !cancellationToken.IsCancellationRequested;
        }
        using var timeout = new CancellationTokenSource(sleep, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _poke.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The sleep is over.
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        return true;
    }

    [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "task #{Id} of {Owner} fired")]
    private static partial void LogFired(ILogger logger, long id, string owner);

    [LoggerMessage(EventId = 811, Level = LogLevel.Warning, Message = "task #{Id} of {Owner} failed to fire and counts as fired: {Reason}")]
    private static partial void LogFireFailed(ILogger logger, long id, string owner, string reason);

    [LoggerMessage(EventId = 812, Level = LogLevel.Error, Message = "the task scheduler could not look at its tasks, trying again in a minute: {Reason}")]
    private static partial void LogLoopFailed(ILogger logger, string reason);
}
