using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli.Doctor;

/// <summary>Runs every check in order and collects the findings; a check that throws becomes a failure, never a crash.</summary>
internal static class DoctorRun
{
    /// <summary>The checks, in the order they are reported. Each returns its findings; none may block past its own timeouts.</summary>
    private static readonly (string Group, Func<DoctorContext, CancellationToken, Task<IReadOnlyList<Finding>>> Run)[] Checks =
    [
        (UsersCheck.Group, UsersCheck.RunAsync),
        (LayoutCheck.Group, LayoutCheck.RunAsync),
        (SecretsCheck.Group, SecretsCheck.RunAsync),
        (UnitsCheck.Group, UnitsCheck.RunAsync),
        (SandboxProbes.Group, SandboxProbes.RunAsync),
        (WebhookBindCheck.Group, WebhookBindCheck.RunAsync),
        (MeshCheck.Group, MeshCheck.RunAsync),
        (SshFirewallCheck.SshGroup, SshFirewallCheck.RunAsync),
        (VersionsCheck.Group, VersionsCheck.RunAsync),
    ];

    private static readonly TimeSpan MaxProbeTimeout = TimeSpan.FromSeconds(5);

    public static async Task<(DoctorContext Context, IReadOnlyList<Finding> Findings)> RunAsync(CancellationToken cancellationToken)
    {
        var paths = BoxPaths.FromEnvironment();
        var config = CommonOptions.LoadForClient(paths);
        var timeout = config.Ipc.RequestTimeout < MaxProbeTimeout ? config.Ipc.RequestTimeout : MaxProbeTimeout;
        // Asking each daemon first also starts the socket-activated ones, so the units check sees them running.
        var daemons = await Task.WhenAll(Daemons.All.Select(d => ProbeAsync(d, paths, timeout, cancellationToken)));
        var context = new DoctorContext { Paths = paths, Config = config, Daemons = daemons, ProbeTimeout = timeout };
        var findings = new List<Finding>();
        foreach (var (group, run) in Checks)
        {
            try
            {
                findings.AddRange(await run(context, cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                findings.Add(Finding.Fail(group, "check", $"{group}: the check itself failed: {e.GetType().Name}: {e.Message}", null));
            }
        }
        return (context, findings);
    }

    /// <summary>system.status with a hard deadline: even a connect that never completes ends as "no answer".</summary>
    private static async Task<DaemonStatusReport> ProbeAsync(DaemonInfo daemon, BoxPaths paths, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout + TimeSpan.FromSeconds(1));
        try
        {
            return await DaemonProbe.ProbeAsync(daemon, paths, timeout, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DaemonStatusReport
            {
                Name = daemon.Name,
                Up = false,
                Socket = paths.SocketPath(daemon),
                Error = $"no answer within {timeout.TotalSeconds:0.#} s",
            };
        }
    }
}
