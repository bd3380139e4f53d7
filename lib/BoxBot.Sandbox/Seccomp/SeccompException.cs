namespace BoxBot.Sandbox.Seccomp;

/// <summary>
/// Installing the seccomp filter failed. The job must not start: a job process that cannot be
/// confined is killed by its launcher rather than run with fewer controls.
/// </summary>
public sealed class SeccompException : Exception
{
    public SeccompException(string message) : base(message) { }

    public SeccompException(string message, Exception innerException) : base(message, innerException) { }

    internal SeccompException(string step, int errno, int? threadId, string message) : base(message)
    {
        Step = step;
        Errno = errno;
        ThreadId = threadId;
    }

    /// <summary>The call that failed, e.g. <c>prctl(PR_SET_NO_NEW_PRIVS)</c> or <c>seccomp(SECCOMP_SET_MODE_FILTER)</c>.</summary>
    public string? Step { get; }

    /// <summary>The errno the call reported (0 when it failed without one, as a TSYNC failure does).</summary>
    public int Errno { get; }

    /// <summary>For a TSYNC failure: the thread id the kernel could not apply the filter to.</summary>
    public int? ThreadId { get; }
}
