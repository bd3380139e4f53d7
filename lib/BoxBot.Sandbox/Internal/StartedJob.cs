namespace BoxBot.Sandbox.Internal;

/// <summary>
/// A job whose launcher is running: its folder, its SDK channel (if any) and its process. A warm one
/// (<see cref="Warm"/>) was started before its job arrived and waits for the go message.
/// </summary>
internal sealed class StartedJob(string jobId, JobDirectory directory, JobCgroup? cgroup, SdkChannel sdk, JobProcess process, bool warm, string venvStamp)
{
    public string JobId { get; } = jobId;
    public JobDirectory Directory { get; } = directory;

    /// <summary>The job's own cgroup, where the runner can make one.</summary>
    public JobCgroup? Cgroup { get; } = cgroup;
    /// <summary>The job's socket: the handshake (workspace, proxy), then the SDK channel when the job has one.</summary>
    public SdkChannel Sdk { get; } = sdk;

    /// <summary>Whether the job was started with an SDK channel (a warm one learns at go whether it keeps it).</summary>
    public bool HasSdk { get; set; }
    public JobProcess Process { get; } = process;
    public bool Warm { get; } = warm;

    /// <summary>What the venv looked like when a warm job was started (one made before an install is not used after it); empty for a cold job.</summary>
    public string VenvStamp { get; } = venvStamp;

    /// <summary>Releases the channel and the process handle, removes the cgroup, then unmounts and deletes the folder (either may throw <see cref="IOException"/>).</summary>
    public void Release()
    {
        Sdk.Dispose();
        Process.Dispose();
        try
        {
            Cgroup?.Dispose();
        }
        finally
        {
            Directory.Dispose();
        }
    }
}
