namespace BoxBot.Sandbox;

/// <summary>How a <see cref="SandboxRunner"/> runs jobs. Immutable; change with <c>with</c>.</summary>
public sealed record SandboxRunnerOptions
{
    /// <summary>Where per-job folders are made (e.g. $STATE/boxbot-sandbox/jobs); created 0700 if missing.</summary>
    public required string JobsDir { get; init; }

    /// <summary>The executable whose <c>exec</c> subcommand calls <see cref="JobLauncher.Exec"/> (the daemon passes its own path).</summary>
    public required string LauncherPath { get; init; }

    /// <summary>The interpreter; it and its libraries are bound read-only into each job.</summary>
    public string Python { get; init; } = "/usr/bin/python3";

    /// <summary>
    /// Jobs run as this user (never root). A runner that is not root runs jobs as its own user, each in a user namespace
    /// of its own; this must then name that user.
    /// </summary>
    public string JobUser { get; init; } = "boxbot-sandbox";

    /// <summary>
    /// The egress proxy's Unix socket (boxbot-sandbox egress; docs/egress.md), where each connection a network "internet"
    /// job makes to its proxy port goes. Null: such jobs are refused.
    /// </summary>
    public string? EgressSocket { get; init; }

    public int MaxConcurrentJobs { get; init; } = 2;

    /// <summary>Jobs allowed to wait beyond the running ones; one more is a <see cref="SandboxBusyException"/>.</summary>
    public int QueueLength { get; init; } = 16;

    /// <summary>
    /// Jobs kept started ahead, fully confined, their interpreter waiting for a script (network "none" only;
    /// needs <see cref="SdkRuntimePath"/>, whose bootstrap does the waiting). 0: every job starts cold.
    /// </summary>
    public int WarmJobs { get; init; } = 2;

    /// <summary>Defaults and maxima for every job.</summary>
    public SandboxLimits Limits { get; init; } = SandboxLimits.Default;

    /// <summary>More host paths bound read-only at the same place in every job (the venv, the SDK).</summary>
    public IReadOnlyList<string> ExtraReadOnlyPaths { get; init; } = [];

    /// <summary>
    /// Host folder holding the SDK runtime (<c>bootstrap.py</c> and the <c>bb/</c> package; the repository's
    /// lib/BoxBot.Sandbox/python). When set it is bound read-only at /opt/boxbot/runtime in every job and
    /// scripts start through its bootstrap, so <c>import bb</c> works. Null: scripts run bare, without <c>bb</c>.
    /// </summary>
    public string? SdkRuntimePath { get; init; }

    /// <summary>
    /// Host folder of the venv of approved packages (<c>python3 -m venv</c> layout), or null. When it exists it is
    /// bound read-only (nosuid, nodev; extension modules need exec) at /opt/boxbot/venv in every job, and the
    /// SDK bootstrap puts its site-packages on sys.path. Only the agent writes it.
    /// </summary>
    public string? VenvPath { get; init; }
}
