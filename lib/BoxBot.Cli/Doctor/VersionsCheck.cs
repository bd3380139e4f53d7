using BoxBot.Contracts;

namespace BoxBot.Cli.Doctor;

/// <summary>
/// Check 10: every daemon answers its status call and runs the CLI's build (a daemon left running from an older
/// install is a failure), plus the python3 that runs sandbox jobs and the kernel release, for the record.
/// </summary>
internal static class VersionsCheck
{
    public const string Group = "versions";

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding> { Finding.Ok(Group, "cli", $"boxbot CLI {BuildInfo.Version}") };
        foreach (var daemon in Daemons.All)
        {
            findings.Add(EvaluateDaemon(daemon, context.StatusOf(daemon), BuildInfo.Version, context));
        }

        var python = context.Config.Sandbox.Python;
        var r = await ChildProcess.RunAsync(python, ["--version"], cancellationToken: cancellationToken);
        findings.Add(r.ExitCode == 0
            ? Finding.Ok(Group, "python3", $"{python}: {(r.Stdout + r.Stderr).Trim()}")
            : Finding.Fail(Group, "python3", $"{python} ([sandbox] python) does not run: {r.Problem ?? r.Stderr.Trim()}; sandbox jobs need it",
                "sudo apt-get install python3"));
        try
        {
            findings.Add(Finding.Ok(Group, "kernel", $"kernel {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", cancellationToken)).Trim()}"));
        }
        catch (IOException e)
        {
            findings.Add(Finding.Warn(Group, "kernel", $"kernel release unknown: {e.Message}", null));
        }
        return findings;
    }

    /// <summary>
    /// The verdict on one daemon's status: up with the CLI's version is fine; another version or no answer is a failure
    /// (on an installed box, a webhook skipped for want of its app secret is the units check's warning, not a failure here).
    /// </summary>
    public static Finding EvaluateDaemon(DaemonInfo daemon, DaemonStatusReport status, string cliVersion, DoctorContext context)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(context);
        if (!status.Up)
        {
            if (!context.Development && daemon == Daemons.Webhook && !File.Exists(status.Socket))
            {
                return Finding.Skip(Group, daemon.Name, $"{daemon.Name}: not running and {status.Socket} absent (the webhook stays off until whatsapp-app-secret is set)");
            }
            return Finding.Fail(Group, daemon.Name, $"{daemon.Name}: does not answer on {status.Socket}: {status.Error}", context.RestartCommand(daemon));
        }
        return status.Version == cliVersion
            ? Finding.Ok(Group, daemon.Name, $"{daemon.Name} {status.Version} (pid {status.Pid})")
            : Finding.Fail(Group, daemon.Name, $"{daemon.Name} runs {status.Version}, the CLI is {cliVersion}: restart it", context.RestartCommand(daemon));
    }
}
