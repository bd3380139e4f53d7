using System.Collections;
using System.Runtime.InteropServices;
using BoxBot.Linux;
using BoxBot.Sandbox.Internal;

namespace BoxBot.Sandbox;

/// <summary>
/// Puts the sandbox daemon in a mount namespace of its own, so that the job workspaces it mounts
/// (warm jobs keep two mounted all the time) never outlive it: if the daemon is killed, they go with
/// its namespace instead of staying mounted under the state folder until the next start. A unit with
/// <c>PrivateMounts=yes</c> gives the same; the daemon does it itself anyway (dev up, by hand, any
/// unit): it re-executes itself, same pid, under <c>unshare --mount --propagation private</c>, once.
/// </summary>
public static partial class PrivateMounts
{
    private const string Unshare = "/usr/bin/unshare";

    /// <summary>Set for the re-executed daemon: the mount namespace it came from (so it never loops, and can tell it got a new one).</summary>
    public const string FromVariable = "BOXBOT_SANDBOX_MOUNTS_FROM";

    /// <summary>
    /// As root, the first time: replaces this process with itself under <c>unshare</c> and does not return.
    /// Otherwise (not root, already re-executed, unshare missing) returns, saying on stderr why when it matters.
    /// </summary>
    public static void Enter(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var own = NamespaceOf("self");
        if (Environment.GetEnvironmentVariable(FromVariable) is { } from)
        {
            if (from == own)
            {
                Console.Error.WriteLine($"boxbot-sandbox: {Unshare} --mount left the daemon in its old mount namespace; job workspaces stay mounted if it is killed");
            }
            return;
        }
        if (LinuxProcess.EffectiveUid != 0 || own is null || Environment.ProcessPath is not { } self)
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
        env.Add($"{FromVariable}={own}");
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
