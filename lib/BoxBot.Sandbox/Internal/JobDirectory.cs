using System.Text;
using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// One job's folder on the host: <c>workspace/</c> (a size-limited tmpfs owned by the job user,
/// holding main.py, written at once or, for a warm job, when its job arrives) and an empty <c>root/</c> the launcher mounts the job's root on. Disposing
/// unmounts the workspace and deletes the folder, whatever happened to the job.
/// </summary>
internal sealed class JobDirectory : IDisposable
{
    private bool _mounted;

    private JobDirectory(string path)
    {
        Path = path;
    }

    public string Path { get; }
    public string Workspace => Path + "/workspace";
    public string Root => Path + "/root";

    public static JobDirectory Create(string jobsDir, string jobId, long workspaceBytes, uint uid, uint gid, string? script)
    {
        var dir = new JobDirectory(System.IO.Path.Combine(jobsDir, jobId));
        try
        {
            Directory.CreateDirectory(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(dir.Workspace, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(dir.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (mount("tmpfs", dir.Workspace, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    $"size={workspaceBytes},mode=0700,uid={uid},gid={gid}") != 0)
            {
                throw new SandboxException($"mounting the workspace tmpfs on {dir.Workspace}: {LastError()}");
            }
            dir._mounted = true;
            if (script is not null)
            {
                dir.WriteScript(script, uid, gid);
            }
            return dir;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Writes the job's script as <c>workspace/main.py</c>, owned by the job user, mode 0600.</summary>
    public void WriteScript(string script, uint uid, uint gid)
    {
        var main = Workspace + "/main.py";
        File.WriteAllText(main, script, new UTF8Encoding(false));
        File.SetUnixFileMode(main, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        BoxBot.Linux.LinuxFile.ChangeOwner(main, uid, gid);
    }

    /// <summary>
    /// Removes job folders a previous runner left behind when it died mid-job (its workspace tmpfs
    /// is still mounted); returns how many. Only for folders no running job of this runner uses.
    /// </summary>
    public static int RemoveStale(string jobsDir)
    {
        var removed = 0;
        foreach (var path in Directory.GetDirectories(jobsDir))
        {
            var dir = new JobDirectory(path) { _mounted = true };
            if (umount2(dir.Workspace, MNT_DETACH) == 0 || !IsMounted(dir.Workspace))
            {
                dir._mounted = false;
                dir.Dispose();
                removed++;
            }
        }
        return removed;
    }

    private static bool IsMounted(string path) =>
        File.ReadAllText("/proc/self/mountinfo").Contains(" " + path + " ", StringComparison.Ordinal);

    /// <summary>Free bytes left in the workspace (0: the job filled it).</summary>
    public long WorkspaceFreeBytes()
    {
        try
        {
            return new DriveInfo(Workspace).AvailableFreeSpace;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    public void Dispose()
    {
        if (_mounted && umount2(Workspace, MNT_DETACH) == 0)
        {
            _mounted = false;
        }
        if (!_mounted && Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
        if (_mounted)
        {
            throw new IOException($"unmounting {Workspace}: {LastError()}; the folder was left in place");
        }
    }
}
