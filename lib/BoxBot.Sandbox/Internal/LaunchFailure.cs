namespace BoxBot.Sandbox.Internal;

/// <summary>A launcher set-up step failed; the job must not run.</summary>
internal sealed class LaunchFailure(string message) : Exception(message)
{
    /// <summary>Throws when a libc call returned a negative value, naming the call and errno.</summary>
    public static void Check(long rc, string call)
    {
        if (rc < 0)
        {
            throw new LaunchFailure(call + ": " + SandboxNative.LastError());
        }
    }
}
