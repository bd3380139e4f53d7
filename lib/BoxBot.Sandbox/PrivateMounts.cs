using System.Collections;
using System.Runtime.InteropServices;
using BoxBot.Linux;
using BoxBot.Sandbox.Internal;

namespace BoxBot.Sandbox;

/// <summary>
/// Puts the sandbox daemon in a mount namespace of its own, so that the job workspaces it mounts
/// (warm jobs keep two mounted all the time) never outlive it: if the daemon is killed, they go with
/// its namespace instead of staying mounted under the state folder until the next start. A unit with
/// <c>PrivateMounts=yes</c> already does this; otherwise (dev up, by hand) the daemon re-executes
/// itself, same pid, under <c>unshare --mount --propagation private</c>.
/// </summary>
public static partial class PrivateMounts
{
    private const string Unshare = "/usr/bin/unshare";

    /// <summary>True when this process's mount namespace is not PID 1's.</summary>
    public static bool IsPrivate() => NamespaceOf("self") is { } own && NamespaceOf("1") is { } init && own != init;

    /// <summary>
    /// As root, in PID 1's mount namespace: replaces this process with itself under <c>unshare</c> and
    /// does not return. Otherwise (not root, already private, unshare missing) returns and says why not on stderr when it matters.
    /// </summary>
    public static void Enter(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (LinuxProcess.EffectiveUid != 0 || IsPrivate() || Environment.ProcessPath is not { } self)
        {
            return;
        }
        if (!File.Exists(Unshare))
        {
            Console.Error.WriteLine($"boxbot-sandbox: {Unshare} is missing (util-linux); job workspaces stay mounted if the daemon is killed");
            return;
        }
        // .NET keeps its environment apart from the native one: pass it explicitly.
        var env = new List<string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env.Add($"{e.Key}={e.Value}");
        }
        var argv = NativeStrings.Array([Unshare, "--mount", "--propagation", "private", "--", self, .. args]);
        var envp = NativeStrings.Array(env);
        _ = execve(NativeStrings.String(Unshare), argv, envp);
        Console.Error.WriteLine($"boxbot-sandbox: could not re-execute under {Unshare}: {Errno.Describe(Marshal.GetLastPInvokeError())}; "
            + "job workspaces stay mounted if the daemon is killed");
    }

    private static string? NamespaceOf(string pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int execve(nint path, nint argv, nint envp);
}
