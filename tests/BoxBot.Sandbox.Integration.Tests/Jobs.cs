using BoxBot.Sandbox.Sdk;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>Shorthands for running a script and describing a result in assertion messages.</summary>
internal static class Jobs
{
    public static Task<JobResult> RunAsync(string script, SandboxRunner? runner = null, IReadOnlyDictionary<string, string>? secrets = null,
        TimeSpan? timeout = null, long? memory = null, ISdkHost? sdk = null)
        => (runner ?? SandboxFixture.Runner).RunAsync(new JobRequest
        {
            Script = script,
            Secrets = secrets ?? new Dictionary<string, string>(),
            Timeout = timeout,
            MemoryBytes = memory,
            Sdk = sdk,
        });

    public static string Describe(JobResult r) =>
        $"status={r.Status} exit={r.ExitCode} killed_by={r.KilledBy} signal={r.Signal} syscall={r.Syscall} error={r.Error} sdk_calls={r.SdkCalls} attachments={r.Attachments.Count}\n"
        + $"--- stdout ---\n{r.Stdout}\n--- stderr ---\n{r.Stderr}";
}
