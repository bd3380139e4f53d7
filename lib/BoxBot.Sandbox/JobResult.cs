using BoxBot.Sandbox.Sdk;

namespace BoxBot.Sandbox;

/// <summary>How a job ended, with its captured output.</summary>
public sealed record JobResult
{
    public required string JobId { get; init; }

    /// <summary>"ok" (exit 0), "error" (nonzero exit or set-up failure) or "killed" (see <see cref="KilledBy"/>).</summary>
    public required string Status { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>"timeout", "memory", "output", "disk", "tasks", "seccomp" or "signal"; null unless a limit ended the job.</summary>
    public string? KilledBy { get; init; }

    /// <summary>The forbidden system call, when the kernel's audit record names it.</summary>
    public string? Syscall { get; init; }

    /// <summary>The signal that ended the interpreter, if one did.</summary>
    public int? Signal { get; init; }

    public required string Stdout { get; init; }
    public required string Stderr { get; init; }
    public bool StdoutTruncated { get; init; }
    public bool StderrTruncated { get; init; }
    public long DurationMs { get; init; }

    /// <summary>The job ran in a warm job (started and confined ahead, see <see cref="SandboxRunnerOptions.WarmJobs"/>) rather than a cold start.</summary>
    public bool StartedWarm { get; init; }

    /// <summary>Why the job could not run at all (set-up failure), for the caller.</summary>
    public string? Error { get; init; }

    /// <summary>SDK requests the job sent, valid or not (0 without <see cref="JobRequest.Sdk"/>).</summary>
    public int SdkCalls { get; init; }

    /// <summary>Files the job returned with <c>bb.output.attach</c>, with their bytes as they were at attach time.</summary>
    public IReadOnlyList<SdkAttachment> Attachments { get; init; } = [];
}
