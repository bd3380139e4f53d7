using System.Text;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// One job's folder on the host (0700, the runner's): the job's socket, an empty <c>workspace/</c> the launcher mounts
/// the job's tmpfs workspace on, and an empty <c>root/</c> it mounts the job's root on. Both mounts exist only in the
/// launcher's own mount namespace, so the runner mounts nothing and nothing outlives the job; the runner reaches the
/// workspace through the descriptor its <see cref="SdkChannel"/> opened. Disposing deletes the folder.
/// </summary>
internal sealed class JobDirectory : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private JobDirectory(string path)
    {
        Path = path;
    }

    public string Path { get; }
    public string Workspace => Path + "/workspace";
    public string Root => Path + "/root";

    public static JobDirectory Create(string jobsDir, string jobId)
    {
        var dir = new JobDirectory(System.IO.Path.Combine(jobsDir, jobId));
        try
        {
            Directory.CreateDirectory(dir.Path, Private);
            Directory.CreateDirectory(dir.Workspace, Private);
            Directory.CreateDirectory(dir.Root, Private);
            return dir;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a warm job's script as <c>main.py</c> (0600) into its workspace, <paramref name="workspace"/> being the
    /// runner's path to it; chowned to the job user only by a root runner (in a user namespace it is the runner's own uid).
    /// </summary>
    public static void WriteScript(string workspace, string script, uint uid, uint gid, bool chown)
    {
        var main = workspace + "/main.py";
        File.WriteAllText(main, script, new UTF8Encoding(false));
        File.SetUnixFileMode(main, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (chown)
        {
            BoxBot.Linux.LinuxFile.ChangeOwner(main, uid, gid);
        }
    }

    /// <summary>Removes job folders a previous runner left behind when it died mid-job; returns how many. Only for folders no running job of this runner uses.</summary>
    public static int RemoveStale(string jobsDir)
    {
        var removed = 0;
        foreach (var path in Directory.GetDirectories(jobsDir))
        {
            // Runners before this one mounted workspaces themselves: one that was killed may have left one mounted.
            _ = SandboxNative.umount2(path + "/workspace", SandboxNative.MNT_DETACH);
            new JobDirectory(path).Dispose();
            removed++;
        }
        return removed;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
