using BoxBot.Sandbox.Sdk;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>Shorthands for running a script and describing a result in assertion messages.</summary>
internal static class Jobs
{
    /// <summary>The runner used when a test names none (set per fixture by <see cref="WarmAndCold"/>); null: the fixture's.</summary>
    public static SandboxRunner? Default { get; set; }

    public static Task<JobResult> RunAsync(string script, SandboxRunner? runner = null, IReadOnlyDictionary<string, string>? secrets = null,
        TimeSpan? timeout = null, long? memory = null, ISdkHost? sdk = null, JobNetwork network = JobNetwork.None)
        => (runner ?? Default ?? SandboxFixture.Runner).RunAsync(new JobRequest
        {
            Script = script,
            Secrets = secrets ?? new Dictionary<string, string>(),
            Timeout = timeout,
            MemoryBytes = memory,
            Sdk = sdk,
            Network = network,
        });

    public static string Describe(JobResult r) =>
        $"{(r.StartedWarm ? "warm" : "cold")} status={r.Status} exit={r.ExitCode} killed_by={r.KilledBy} signal={r.Signal} syscall={r.Syscall} error={r.Error} sdk_calls={r.SdkCalls} attachments={r.Attachments.Count}\n"
        + $"--- stdout ---\n{r.Stdout}\n--- stderr ---\n{r.Stderr}";
}

/// <summary>
/// Runs a fixture's tests twice: on the shared runner, whose jobs start warm (started and confined ahead,
/// the default), and on one with no warm jobs, whose jobs start cold. Every attack must fail on both paths.
/// </summary>
[TestFixture("warm")]
[TestFixture("cold")]
public abstract class WarmAndCold(string start)
{
    [SetUp]
    public void ChooseRunner() => Jobs.Default = start == "cold" ? SandboxFixture.ColdRunner : SandboxFixture.Runner;

    [TearDown]
    public void ResetRunner() => Jobs.Default = null;
}
