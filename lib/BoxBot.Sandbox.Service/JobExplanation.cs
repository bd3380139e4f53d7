using System.Globalization;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// Says, for a person (the admin at `boxbot sandbox run`, or the model through execute_script), what the box's rules
/// had to do with how a job ended: which limit, its value for this job, and what changes it. A bare "killed by memory
/// after 6 ms" teaches nothing; "more than its memory limit of 256 MiB; a job may ask for up to 256 MiB ([sandbox]
/// memory_mib)" does. Null when nothing of the box's stopped the job.
/// </summary>
internal static class JobExplanation
{
    private const long MiB = 1024 * 1024;

    /// <param name="result">How the job ended.</param>
    /// <param name="job">The limits this job ran with (its own timeout and memory, the rest the configured ones).</param>
    /// <param name="most">The configured limits: the most a job may ask for.</param>
    /// <param name="internet">Whether the job had network "internet".</param>
    public static string? Explain(JobResult result, SandboxLimits job, SandboxLimits most, bool internet)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(most);
        if (result.Status == "ok")
        {
            return null;
        }
        return result.KilledBy switch
        {
            "timeout" => $"the job ran past its time limit of {Seconds(job.Wall)} (wall clock; CPU time is also capped at {Seconds(job.Cpu)}, " +
                         $"[sandbox] cpu_s) and was ended. A job may ask for up to {Seconds(most.Wall)} (its timeout_s; [sandbox] timeout_s sets the most).",
            "memory" => $"the job needed more memory than its limit of {job.MemoryBytes / MiB} MiB (address space) and was ended. A job may ask for " +
                        $"up to {most.MemoryBytes / MiB} MiB (its memory_mib; [sandbox] memory_mib sets the most).",
            "output" => $"the job printed more than {Size(job.OutputBytes)} on {Streams(result)}, the most kept of each stream, and was ended " +
                        $"([sandbox] output_kib sets it). Write large results to a file and return it with bb.output.attach.",
            "disk" => $"the job's workspace, its only writable folder, is full or a file grew past the limit: both are {job.WorkspaceBytes / MiB} MiB " +
                      "([sandbox] workspace_mib sets it).",
            "tasks" => $"the job tried to run more than {job.MaxTasks} threads at once ([sandbox] max_tasks sets it); scripts cannot start processes at all.",
            "seccomp" => Seccomp(result.Syscall),
            "signal" when result.Error is { } error => error,
            "signal" => "the job was ended by a signal from outside it.",
            _ => FromStderr(result.Stderr, job, internet),
        };
    }

    /// <summary>What the filter's refusal means: most often a script that tried to start a program.</summary>
    private static string Seccomp(string? syscall) => syscall switch
    {
        "fork" or "vfork" or "clone" or "clone3" or "execve" or "execveat" =>
            $"scripts cannot start processes or other programs (subprocess, os.system, os.fork, multiprocessing): the sandbox's system-call " +
            $"filter ended the job when it tried ({syscall}). Do the work in Python itself, or with an approved package (boxbot packages request).",
        null => "the sandbox's system-call filter ended the job: it made a system call jobs may not make (the kernel's log did not say which; " +
                "the commonest is starting a process, which scripts cannot do).",
        _ => $"the sandbox's system-call filter ended the job: jobs may not call {syscall} (docs/sandbox.md lists what is refused and why).",
    };

    /// <summary>Limits a job meets as an error it may catch rather than a kill: the script's own traceback says which.</summary>
    private static string? FromStderr(string stderr, SandboxLimits job, bool internet)
    {
        if (stderr.Contains("Too many open files", StringComparison.Ordinal))
        {
            return $"the job hit its limit of {job.MaxOpenFiles} open files ([sandbox] max_open_files sets it).";
        }
        if (stderr.Contains("ModuleNotFoundError", StringComparison.Ordinal))
        {
            return "jobs can import the standard library and the approved packages only (`boxbot packages list`); ask for another with " +
                   "`boxbot packages request NAME` and approve it.";
        }
        if (internet && stderr.Contains("(boxbot egress proxy)", StringComparison.Ordinal))
        {
            return "the box's egress proxy refused a connection the job asked for (its answer is in the traceback): internet jobs reach " +
                   "public addresses only, never this box, the LAN or link-local addresses (docs/egress.md).";
        }
        if (!internet && (stderr.Contains("Network is unreachable", StringComparison.Ordinal)
                          || stderr.Contains("Temporary failure in name resolution", StringComparison.Ordinal)
                          || stderr.Contains("Name or service not known", StringComparison.Ordinal)))
        {
            return "the job had no network (network \"none\", the default); a job that needs the internet asks for network \"internet\" " +
                   "(public addresses only, through the egress proxy).";
        }
        return null;
    }

    private static string Streams(JobResult r) => (r.StdoutTruncated, r.StderrTruncated) switch
    {
        (true, true) => "stdout and stderr",
        (false, true) => "stderr",
        _ => "stdout",
    };

    private static string Seconds(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.#} s");

    private static string Size(long bytes) => bytes % MiB == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / MiB} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB");
}
