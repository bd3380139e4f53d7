using BoxBot.Linux;
using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// Builds the job's whole file system view inside the launcher's private mount namespace: a small
/// read-only tmpfs root holding read-only binds of the interpreter's files, four device nodes, a
/// fresh proc of the job's PID namespace and the read-write workspace; then pivot_root into it and
/// drop the host's tree. Everything else on the host (/etc/boxbot, /var/lib/boxbot, /root, /home,
/// other jobs' workspaces, the host's /proc) is simply absent.
/// </summary>
internal static class JobRoot
{
    private static readonly string[] Devices = ["null", "zero", "urandom", "random"];

    /// <summary>
    /// Mounts the job's workspace, a tmpfs of <see cref="JobSpec.WorkspaceBytes"/> owned by the job's uid, on its
    /// folder: in this mount namespace only, so it goes with the job, whoever dies first. Writes a cold job's script
    /// into it as main.py (0600, the job's).
    /// </summary>
    public static void MountWorkspace(JobSpec spec)
    {
        // unshare(1) already makes the new namespace private; saying it again costs nothing and
        // guarantees that nothing below propagates back to the host.
        Check(mount(null, "/", null, MS_REC | MS_PRIVATE, null), "mount / rprivate");
        var workspace = RequireAbsolute(spec.WorkspaceHost, "workspace_host");
        if (spec.WorkspaceBytes < 4096)
        {
            throw new LaunchFailure($"workspace_bytes {spec.WorkspaceBytes} is below one page");
        }
        Check(mount("tmpfs", workspace, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            $"size={spec.WorkspaceBytes},mode=0700,uid={spec.Uid},gid={spec.Gid}"), "mount the workspace tmpfs on " + workspace);
        if (spec.Script is { } script)
        {
            var main = workspace + "/main.py";
            File.WriteAllText(main, script, new System.Text.UTF8Encoding(false));
            File.SetUnixFileMode(main, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (!spec.UserNamespace)
            {
                LinuxFile.ChangeOwner(main, spec.Uid, spec.Gid); // in a user namespace it is the job's already
            }
        }
    }

    public static void Build(JobSpec spec)
    {
        var root = RequireAbsolute(spec.RootHost, "root_host");
        Check(mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755"), "mount tmpfs on " + root);

        foreach (var path in spec.ReadOnlyBinds)
        {
            AddReadOnly(root, RequireAbsolute(path, "ro_binds"));
        }
        if (spec.RuntimeHost is not null)
        {
            // The SDK runtime (bootstrap.py, bb/): pure Python, so noexec as well.
            BindAt(root, spec.RuntimeHost, "runtime_host", spec.RuntimeInJob, "runtime_in_job", MS_NOEXEC);
        }
        if (spec.VenvHost is not null)
        {
            // Approved packages: extension modules are mapped executable, so not noexec.
            BindAt(root, spec.VenvHost, "venv_host", spec.VenvInJob, "venv_in_job", 0);
        }
        if (spec.PluginCodeHost is not null)
        {
            // A plugin's code: read by the interpreter, never executed as a program.
            BindAt(root, spec.PluginCodeHost, "plugin_code_host", spec.PluginCodeInJob, "plugin_code_in_job", MS_NOEXEC);
        }
        if (spec.PluginDataHost is not null)
        {
            // The plugin's own folder that outlives its process: the only writable place beside the workspace.
            var data = root + RequireAbsolute(spec.PluginDataInJob, "plugin_data_in_job");
            if (Exists(data))
            {
                throw new LaunchFailure("plugin_data_in_job " + spec.PluginDataInJob + " is already taken in the job's root");
            }
            Directory.CreateDirectory(data);
            var source = RequireAbsolute(spec.PluginDataHost, "plugin_data_host");
            Check(mount(source, data, null, MS_BIND, null), "bind " + source);
            Check(mount(null, data, null, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | KeptFlags(data), null), "remount " + source);
        }
        if (!Exists(root + "/bin"))
        {
            File.CreateSymbolicLink(root + "/bin", "usr/bin");
        }

        Directory.CreateDirectory(root + "/dev");
        foreach (var name in Devices)
        {
            var target = root + "/dev/" + name;
            File.WriteAllBytes(target, []);
            Check(mount("/dev/" + name, target, null, MS_BIND, null), "bind /dev/" + name);
            Check(mount(null, target, null, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC | KeptFlags(target), null), "remount /dev/" + name);
        }

        Directory.CreateDirectory(root + "/proc");
        Check(mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, null), "mount proc");

        var workspace = root + RequireAbsolute(spec.WorkspaceInJob, "workspace_in_job");
        Directory.CreateDirectory(workspace);
        Check(mount(RequireAbsolute(spec.WorkspaceHost, "workspace_host"), workspace, null, MS_BIND, null), "bind workspace");
        Check(mount(null, workspace, null, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | KeptFlags(workspace), null), "remount workspace");

        // The pivot_root(".", ".") idiom: the old root ends up stacked on the new one and is then
        // detached, so no path leads back to the host tree.
        Check(chdir(root), "chdir " + root);
        LaunchFailure.Check(syscall(SysPivotRoot, Utf8("."), Utf8("."), 0, 0, 0), "pivot_root");
        Check(umount2(".", MNT_DETACH), "detach old root");
        Check(chdir("/"), "chdir /");
        Check(mount(null, "/", null, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, null), "remount / read-only");
    }

    private static void AddReadOnly(string root, string path)
    {
        var status = LinuxFile.LStat(path) ?? throw new LaunchFailure("read-only path " + path + " does not exist");
        var target = root + path;
        if (Exists(target))
        {
            return; // already provided, e.g. by a bind of a parent folder
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (status.IsSymbolicLink)
        {
            var link = new FileInfo(path).LinkTarget!;
            if (Exists(root + Path.GetFullPath(link, Path.GetDirectoryName(path)!)))
            {
                // /lib -> usr/lib on merged-/usr systems: recreate the link rather than binding its target twice.
                File.CreateSymbolicLink(target, link);
                return;
            }
            // A link to something the job does not otherwise see (/etc/resolv.conf -> /run/...): bind what it names.
            var final = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            status = (final is null ? null : LinuxFile.LStat(final)) ?? throw new LaunchFailure("read-only path " + path + " is a dangling link");
            path = final!;
        }
        if (status.IsDirectory)
        {
            Directory.CreateDirectory(target);
        }
        else
        {
            File.WriteAllBytes(target, []);
        }
        BindReadOnly(path, target, 0);
    }

    private static void BindAt(string root, string source, string sourceField, string inJob, string inJobField, ulong extraFlags)
    {
        var target = root + RequireAbsolute(inJob, inJobField);
        if (Exists(target))
        {
            throw new LaunchFailure(inJobField + " " + inJob + " is already taken in the job's root");
        }
        Directory.CreateDirectory(target);
        BindReadOnly(RequireAbsolute(source, sourceField), target, extraFlags);
    }

    private static void BindReadOnly(string source, string target, ulong extraFlags)
    {
        Check(mount(source, target, null, MS_BIND | MS_REC, null), "bind " + source);
        Check(mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | extraFlags | KeptFlags(target), null), "remount read-only " + source);
    }

    /// <summary>
    /// The flags of the mount at <paramref name="path"/> that a bind remount must repeat: in a user namespace the kernel
    /// locks them (read-only, nosuid, nodev, noexec, and the atime mode: systemd's private /dev is read-only), and a
    /// remount that would clear one fails with EPERM.
    /// </summary>
    private static ulong KeptFlags(string path)
    {
        const ulong StNoexec = 8, StNoatime = 1024, StNodiratime = 2048, StRelatime = 4096;
        const ulong MsNoatime = 1024, MsNodiratime = 2048, MsRelatime = 1 << 21, MsStrictatime = 1 << 24;
        var flag = StatVfs(path)?.Flags ?? throw new LaunchFailure("statvfs " + path + ": " + LastError());
        const ulong StRdonly = 1, StNosuid = 2, StNodev = 4;
        ulong kept = 0;
        kept |= (flag & StRdonly) != 0 ? MS_RDONLY : 0;
        kept |= (flag & StNosuid) != 0 ? MS_NOSUID : 0;
        kept |= (flag & StNodev) != 0 ? MS_NODEV : 0;
        if ((flag & StNoexec) != 0)
        {
            kept |= MS_NOEXEC;
        }
        if ((flag & StNodiratime) != 0)
        {
            kept |= MsNodiratime;
        }
        kept |= (flag & StNoatime) != 0 ? MsNoatime : (flag & StRelatime) != 0 ? MsRelatime : MsStrictatime;
        return kept;
    }

    private static bool Exists(string path) => LinuxFile.LStat(path) is not null;

    private static string RequireAbsolute(string path, string field) =>
        Path.IsPathRooted(path) && !path.Split('/').Contains("..") && path.Length > 1
            ? path.TrimEnd('/')
            : throw new LaunchFailure($"{field}: '{path}' is not an absolute path without '..'");

    private static nint Utf8(string s) => NativeStrings.String(s);

    private static void Check(int rc, string call) => LaunchFailure.Check(rc, call);
}
