namespace BoxBot.Sandbox.Sdk;

/// <summary>Limits and paths of one job's SDK session. The defaults are the protocol's (see README.md).</summary>
public sealed record SdkOptions
{
    /// <summary>The job's workspace as the host sees it; attachments are resolved beneath it.</summary>
    public required string WorkspaceHostPath { get; init; }

    /// <summary>The same folder as the job sees it (answer of <c>workspace.path</c>, prefix accepted by <c>output.attach</c>).</summary>
    public string WorkspaceInJob { get; init; } = "/workspace";

    /// <summary>Longest request line in bytes, not counting its newline. A longer line closes the channel.</summary>
    public int MaxLineBytes { get; init; } = 64 * 1024;

    /// <summary>Requests per job, valid or not; the next one is refused and closes the channel.</summary>
    public int MaxCalls { get; init; } = 1000;

    public long MaxAttachmentBytes { get; init; } = 8 * 1024 * 1024;

    public int MaxAttachments { get; init; } = 16;
}
