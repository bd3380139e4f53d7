using System.Net.Sockets;
using BoxBot.Sandbox.Plugins;
using BoxBot.Sandbox.Sdk;

namespace BoxBot.Sandbox;

/// <summary>One script to run. Everything here is untrusted input and is validated by the runner.</summary>
public sealed record JobRequest
{
    /// <summary>Python source, at most 256 KiB of UTF-8.</summary>
    public required string Script { get; init; }

    /// <summary>NAME → value, exported as BOXBOT_SECRET_NAME; names match ^[A-Z][A-Z0-9_]{0,63}$.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();

    /// <summary>Wall-clock limit; null: the runner's; above the runner's: refused.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Address-space limit; null: the runner's; above the runner's: refused.</summary>
    public long? MemoryBytes { get; init; }

    public JobNetwork Network { get; init; } = JobNetwork.None;

    /// <summary>
    /// Serves the job's SDK calls (the <c>bb</c> package) over a dedicated socket at descriptor 3 (BOXBOT_SDK_FD).
    /// Null: the job gets no channel, and every <c>bb</c> call raises its "not inside a job" SdkError.
    /// </summary>
    public ISdkHost? Sdk { get; init; }

    /// <summary>
    /// A plugin's process instead of a script: <see cref="Script"/> is ignored (the runtime's plugin runner runs), the
    /// plugin's code and data folders are bound in, and <see cref="Channel"/> serves its socket.
    /// </summary>
    public JobPlugin? Plugin { get; init; }

    /// <summary>
    /// Serves the job's socket (descriptor 3) itself, once the launcher's handshake is done: a plugin's call channel.
    /// Exclusive with <see cref="Sdk"/>. The task ends when the job closes its end or the token is cancelled.
    /// </summary>
    public Func<Socket, CancellationToken, Task>? Channel { get; init; }

    /// <summary>
    /// Keep only the last <see cref="SandboxLimits.OutputBytes"/> of stdout and stderr, each, instead of ending the job
    /// when it writes more: a long-lived plugin's log.
    /// </summary>
    public bool KeepOutputTail { get; init; }
}
