using System.Diagnostics;

namespace BoxBot.Sandbox.Internal;

/// <summary>Whether this (unprivileged) process can make a job's namespaces: tried once, at validation, exactly as a job's are made.</summary>
internal static class UserNamespaces
{
    public static void Probe()
    {
        var info = new ProcessStartInfo("/usr/bin/unshare")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[.. JobProcess.UserNamespace, .. JobProcess.Namespaces, "--", "/bin/true"])
        {
            info.ArgumentList.Add(a);
        }
        using var probe = Process.Start(info) ?? throw new SandboxException("could not start /usr/bin/unshare");
        var stderr = probe.StandardError.ReadToEnd().Trim();
        if (!probe.WaitForExit(10_000))
        {
            probe.Kill(entireProcessTree: true);
            throw new SandboxException("unshare --user did not finish within 10 s");
        }
        if (probe.ExitCode != 0)
        {
            throw new SandboxException($"not root, so jobs need user namespaces, and this process cannot make them ({stderr}): "
                + "check sysctl user.max_user_namespaces (and kernel.unprivileged_userns_clone where it exists), "
                + "the unit's RestrictNamespaces= (it must allow user mnt pid net), or run the sandbox as root");
        }
    }
}
