namespace BoxBot.Sandbox;

/// <summary>
/// What one job may use. In <see cref="SandboxRunnerOptions.Limits"/> these are both the defaults
/// and the maxima: a request that asks for more is refused, never silently clamped.
/// </summary>
/// <param name="Wall">Wall-clock time; the whole job is killed after it.</param>
/// <param name="Cpu">CPU time (RLIMIT_CPU, whole seconds, rounded up).</param>
/// <param name="MemoryBytes">Address space (RLIMIT_AS).</param>
/// <param name="MaxTasks">Processes and threads (RLIMIT_NPROC).</param>
/// <param name="MaxOpenFiles">Open descriptors (RLIMIT_NOFILE); must stay below the exec descriptor (100).</param>
/// <param name="WorkspaceBytes">Size of the workspace tmpfs, and the largest file (RLIMIT_FSIZE).</param>
/// <param name="OutputBytes">Captured stdout and stderr, each; more ends the job.</param>
public sealed record SandboxLimits(TimeSpan Wall, TimeSpan Cpu, long MemoryBytes, int MaxTasks, int MaxOpenFiles, long WorkspaceBytes, int OutputBytes)
{
    public static SandboxLimits Default { get; } = new(
        Wall: TimeSpan.FromSeconds(30),
        Cpu: TimeSpan.FromSeconds(30),
        MemoryBytes: 256L * 1024 * 1024,
        MaxTasks: 64,
        MaxOpenFiles: 64,
        WorkspaceBytes: 64L * 1024 * 1024,
        OutputBytes: 64 * 1024);
}
