using System.Text;

namespace BoxBot.Sandbox.Internal;

/// <summary>Turns what happened to the launcher into a <see cref="JobResult"/>.</summary>
internal static class JobVerdict
{
    private const int SIGKILL = 9;
    private const int SIGXCPU = 24;
    private const int SIGXFSZ = 25;
    private const int SIGSYS = 31;
    private const string SetupFailedPrefix = "boxbot-sandbox exec: setup failed: ";

    // util-linux 2.38's unshare cannot re-raise SIGKILL (sigprocmask refuses it): it says this and exits 1.
    private const string UnshareSigkillLine = "unshare: sigprocmask unblock failed: Invalid argument";

    /// <summary>
    /// unshare re-raises the signal that killed the job's init (util-linux 2.38 does), and .NET
    /// reports a death by signal N as exit code 128 + N, so codes 129..192 are signals. A script
    /// that exits with such a code itself is reported as killed by that signal: it only misreports itself.
    /// </summary>
    public static int? SignalOf(int exitCode) => exitCode is > 128 and <= 128 + 64 ? exitCode - 128 : null;

    public static JobResult Decide(string jobId, JobOutcome o, long workspaceFree, string? seccompSyscall, bool oomKilled, bool pidsMaxHit, long durationMs)
    {
        var stdout = Decode(o.Stdout);
        var stderr = Decode(o.Stderr);
        var exitCode = o.ExitCode;
        if (exitCode == 1 && stderr.TrimEnd('\n').EndsWith(UnshareSigkillLine, StringComparison.Ordinal))
        {
            exitCode = 128 + SIGKILL;
            stderr = stderr.TrimEnd('\n')[..^UnshareSigkillLine.Length];
        }
        var result = new JobResult
        {
            JobId = jobId,
            Status = "error",
            Stdout = stdout,
            Stderr = stderr,
            StdoutTruncated = o.StdoutTruncated,
            StderrTruncated = o.StderrTruncated,
            DurationMs = durationMs,
        };
        switch (o.KilledBy)
        {
            case KillReason.Timeout:
                return result with { Status = "killed", KilledBy = "timeout", Signal = SIGKILL };
            case KillReason.Output:
                return result with { Status = "killed", KilledBy = "output", Signal = SIGKILL };
            case KillReason.Cancelled:
                return result with { Status = "killed", KilledBy = "signal", Signal = SIGKILL, Error = "the job was cancelled" };
            case KillReason.None:
            default:
                break;
        }
        if (oomKilled)
        {
            // The job's memory cgroup hit its limit and the kernel's OOM killer ended a process of it.
            return result with { Status = "killed", KilledBy = "memory", Signal = SIGKILL };
        }
        if (exitCode == JobLauncher.SetupFailedExitCode && stderr.StartsWith(SetupFailedPrefix, StringComparison.Ordinal))
        {
            return result with { ExitCode = exitCode, Error = stderr.Trim() };
        }
        if (SignalOf(exitCode) is { } signal)
        {
            var by = signal switch
            {
                SIGSYS => "seccomp",
                // The CPU-time limit (RLIMIT_CPU), not the wall clock: the runner's own wall-clock kill is
                // KillReason.Timeout above. The job's init is PID 1 of its namespace, for which the kernel drops
                // SIGXCPU with the default action; the hard RLIMIT_CPU one second later is the SIGKILL. Nothing
                // else on the box SIGKILLs a job that the runner did not (only the OOM killer could).
                SIGXCPU => "cpu",
                SIGKILL => "cpu",
                SIGXFSZ => "disk",
                _ => "signal",
            };
            return result with { Status = "killed", KilledBy = by, Signal = signal, Syscall = by == "seccomp" ? seccompSyscall : null };
        }
        if (exitCode == 0)
        {
            return result with { Status = "ok", ExitCode = 0 };
        }
        if (workspaceFree == 0 || stderr.Contains("No space left on device", StringComparison.Ordinal)
            || stderr.Contains("File too large", StringComparison.Ordinal))
        {
            return result with { Status = "killed", KilledBy = "disk", ExitCode = exitCode };
        }
        var last = stderr.TrimEnd().Split('\n')[^1];
        if (last.StartsWith("MemoryError", StringComparison.Ordinal))
        {
            return result with { Status = "killed", KilledBy = "memory", ExitCode = exitCode };
        }
        // A thread the job could not start: its cgroup's pids.max said no (pids.events), or without a cgroup RLIMIT_NPROC
        // did, which Python reports as this RuntimeError. Either way the job died of the task limit.
        if (pidsMaxHit || last.StartsWith("RuntimeError: can't start new thread", StringComparison.Ordinal))
        {
            return result with { Status = "killed", KilledBy = "tasks", ExitCode = exitCode };
        }
        return result with { ExitCode = exitCode };
    }

    private static string Decode(byte[] bytes) => new UTF8Encoding(false, false).GetString(bytes);
}
