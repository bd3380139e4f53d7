using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting.Internal;

/// <summary>
/// Runs named shutdown phases in order under one overall budget. A phase that throws or runs
/// past the budget is logged and the next phase still runs (with a short grace), because
/// storage must close even when draining went wrong.
/// </summary>
internal sealed class ShutdownSequence(ILogger log, TimeSpan budget)
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(250);
    private readonly List<(string Name, Func<CancellationToken, Task> Run)> _phases = [];

    public ShutdownSequence Phase(string name, Func<CancellationToken, Task> run)
    {
        _phases.Add((name, run));
        return this;
    }

    public async Task RunAsync()
    {
        var total = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(budget);
        foreach (var (name, run) in _phases)
        {
            var phase = Stopwatch.StartNew();
            log.LogInformation(HostLogEvents.ShutdownPhase, "shutdown phase {Phase}", name);
            var left = budget - total.Elapsed;
            try
            {
                await run(deadline.Token).WaitAsync(left > Grace ? left : Grace);
            }
            catch (Exception e)
            {
                log.LogWarning(HostLogEvents.ShutdownPhaseFailed, "shutdown phase {Phase} did not finish cleanly after {Ms} ms: {Reason}",
                    name, phase.ElapsedMilliseconds, e.Message);
            }
        }
    }
}
