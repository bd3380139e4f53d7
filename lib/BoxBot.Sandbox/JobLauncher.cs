using System.Text;
using System.Text.Json;
using BoxBot.Linux;
using BoxBot.Sandbox.Internal;
using BoxBot.Sandbox.Seccomp;
using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox;

/// <summary>
/// The <c>boxbot-sandbox exec</c> launcher. It runs as PID 1 of the job's fresh namespaces (created by
/// <c>unshare</c>): as root when the runner is root, else as the runner's uid holding capabilities only in the
/// job's own user namespace. It reads the <see cref="JobSpec"/> from stdin, confines itself step by
/// step and finally replaces itself with the interpreter through <c>execveat</c> of a pre-opened
/// descriptor, so the seccomp filter is in force from the interpreter's first instruction.
/// Any failure before that ends the launcher with 125 and one line on stderr; the script never
/// runs unconfined.
/// </summary>
public static unsafe class JobLauncher
{
    /// <summary>The exit code for "the sandbox could not be set up" (as env(1) and podman use it).</summary>
    public const int SetupFailedExitCode = 125;

    public static int Exec()
    {
        var step = "read spec";
        try
        {
            // The job's root is built with the modes written here, whatever umask the daemon runs under
            // (a hardened unit has 077: mount points would be 0700 root and the job could not reach them).
            _ = umask(0x12); // 022
            var spec = ReadSpec();
            if (!spec.WaitForGo)
            {
                step = "stdin";
                var devNull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                LaunchFailure.Check(devNull, "open /dev/null");
                LaunchFailure.Check(dup3(devNull, 0, 0), "dup3 /dev/null to 0");
                _ = close(devNull);
            }

            step = "spec";
            if (spec.Uid == 0 || spec.Gid == 0)
            {
                throw new LaunchFailure("refusing to run a job as uid or gid 0");
            }
            if (spec.UserNamespace && (getuid() != spec.Uid || getgid() != spec.Gid))
            {
                throw new LaunchFailure($"in the job's user namespace the launcher is uid {getuid()} gid {getgid()}, not the job's {spec.Uid}:{spec.Gid}");
            }
            if (spec.MaxOpenFiles < 1 || spec.MaxOpenFiles >= spec.ExecFd)
            {
                throw new LaunchFailure($"max_open_files {spec.MaxOpenFiles} must be between 1 and exec_fd {spec.ExecFd} - 1");
            }
            step = "cgroup";
            // First, still in the host's tree: every task the job makes is counted there.
            JobCgroup.Join(spec.CgroupProcs);

            // Built now: after the limits below the launcher should not need to allocate.
            var filter = SeccompPolicy.Build(spec.ExecFd);
            var argv = NativeStrings.Array(spec.Argv);
            var envp = NativeStrings.Array(spec.Environment.Select(kv => kv.Key + "=" + kv.Value));
            var emptyPath = NativeStrings.String("");

            step = "workspace";
            JobRoot.MountWorkspace(spec);

            var listener = -1;
            if (spec.ProxyPort != 0)
            {
                step = "proxy listener";
                listener = JobLoopback.Listen(spec.ProxyPort);
            }

            step = "sdk channel";
            // Still in the host's tree: the socket's folder is the job's 0700 folder, owned by the runner's uid.
            var sdk = ConnectSdk(spec.SdkSocket, spec.SdkFd);
            JobHandshake.Send(sdk, listener);
            if (listener >= 0)
            {
                _ = close(listener); // the runner holds it now
            }
            JobHandshake.AwaitReady(sdk);
            if (!spec.SdkToJob)
            {
                _ = close(sdk);
                sdk = -1;
            }

            step = "mounts";
            JobRoot.Build(spec);

            step = "interpreter";
            var fd = open(spec.Interpreter, O_PATH | O_CLOEXEC);
            LaunchFailure.Check(fd, "open " + spec.Interpreter);
            LaunchFailure.Check(dup3(fd, spec.ExecFd, O_CLOEXEC), "dup3 to " + spec.ExecFd);
            _ = close(fd);

            step = "chdir";
            LaunchFailure.Check(chdir(spec.WorkspaceInJob), "chdir " + spec.WorkspaceInJob);

            step = "capabilities";
            DropCapabilityBounds();

            step = "credentials";
            if (spec.UserNamespace)
            {
                KeepUnprivileged(spec.Uid, spec.Gid);
            }
            else
            {
                DropPrivileges(spec.Uid, spec.Gid);
            }

            step = "parent death signal";
            // A credential change clears PR_SET_PDEATHSIG, which is what makes unshare --kill-child work: set it again.
            LinuxProcess.SetParentDeathSignal(LinuxProcess.SIGKILL);

            if (sdk >= 0)
            {
                step = "sdk descriptor";
                // Late: the runtime may own this descriptor number until now (it only needs it
                // until the exec). dup3 without O_CLOEXEC, so it survives the exec; the sweep below skips it.
                if (sdk != spec.SdkFd)
                {
                    LaunchFailure.Check(dup3(sdk, spec.SdkFd, 0), "dup3 to " + spec.SdkFd);
                    _ = close(sdk);
                }
                else
                {
                    LaunchFailure.Check(fcntl(sdk, F_SETFD, 0), "clear close-on-exec on " + spec.SdkFd);
                }
            }

            step = "rlimits";
            SetLimit(RLIMIT_CORE, 0, 0);
            SetLimit(RLIMIT_NOFILE, spec.MaxOpenFiles, spec.MaxOpenFiles);
            SetLimit(RLIMIT_NPROC, spec.MaxTasks, spec.MaxTasks);
            SetLimit(RLIMIT_FSIZE, spec.MaxFileBytes, spec.MaxFileBytes);
            // Hard one second above soft: SIGXCPU first, SIGKILL if it is ignored.
            SetLimit(RLIMIT_CPU, spec.CpuSeconds, spec.CpuSeconds + 1);

            step = "close descriptors";
            // Close-on-exec rather than close: runtime threads still use some of them until the exec.
            // With an SDK channel, its descriptor (3, right after stdio) stays open.
            var firstToClose = sdk >= 0 ? (uint)spec.SdkFd + 1 : 3u;
            LaunchFailure.Check(close_range(firstToClose, uint.MaxValue, CLOSE_RANGE_CLOEXEC), "close_range");

            step = "seccomp";
            SeccompPolicy.Install(filter);

            step = "address space limit";
            // Last, so nothing of the runtime has to map memory under it (a JIT-compiled launcher would
            // die mapping code); the raw syscall stub used below was already bound by pivot_root.
            SetLimit(RLIMIT_AS, spec.AddressSpaceBytes, spec.AddressSpaceBytes);

            step = "execveat";
            LaunchFailure.Check(syscall(SysExecveat, spec.ExecFd, emptyPath, argv, envp, AT_EMPTY_PATH), "execveat " + spec.Interpreter);
            throw new LaunchFailure("execveat returned");
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"boxbot-sandbox exec: setup failed: {step}: {e.Message}");
            return SetupFailedExitCode;
        }
    }

    private static JobSpec ReadSpec()
    {
        // Exactly the framed spec and not a byte more: for a warm job, what follows is the interpreter's.
        using var stdin = Console.OpenStandardInput(bufferSize: 0);
        return JsonSerializer.Deserialize(JobSpecFraming.Read(stdin), JobSpecJsonContext.Default.JobSpec)
            ?? throw new LaunchFailure("spec is null");
    }

    /// <summary>Connects to the runner's SDK socket; returns the (close-on-exec) descriptor.</summary>
    private static int ConnectSdk(string path, int sdkFd)
    {
        if (sdkFd != 3)
        {
            throw new LaunchFailure($"sdk_fd {sdkFd} must be 3 (right after stdio, so the close-on-exec sweep can start above it)");
        }
        var bytes = Encoding.UTF8.GetBytes(path);
        var address = new SockaddrUn { Family = AF_UNIX };
        if (!Path.IsPathRooted(path) || bytes.Length >= 108 || bytes.Contains((byte)0))
        {
            throw new LaunchFailure($"sdk_socket '{path}' must be an absolute path shorter than 108 bytes");
        }
        for (var i = 0; i < bytes.Length; i++)
        {
            address.Path[i] = bytes[i];
        }
        var fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        LaunchFailure.Check(fd, "socket");
        LaunchFailure.Check(connect(fd, &address, (uint)(sizeof(ushort) + bytes.Length + 1)), "connect " + path);
        return fd;
    }

    private static void DropPrivileges(uint uid, uint gid)
    {
        LaunchFailure.Check(setgroups(0, null), "setgroups");
        LaunchFailure.Check(setresgid(gid, gid, gid), "setresgid");
        LaunchFailure.Check(setresuid(uid, uid, uid), "setresuid");
        if (setuid(0) == 0 || getuid() != uid || getgid() != gid || LinuxProcess.EffectiveUid != uid)
        {
            throw new LaunchFailure("privileges were not dropped");
        }
    }

    /// <summary>
    /// Empties the capability bounding set (no capability can come back, whatever is executed) and the ambient set
    /// (unshare --keep-caps put the user namespace's capabilities there; the exec of a non-root uid then leaves none).
    /// </summary>
    private static void DropCapabilityBounds()
    {
        for (nuint cap = 0; cap < 64; cap++)
        {
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != 22)
            {
                LaunchFailure.Check(-1, "PR_CAPBSET_DROP " + cap);
            }
        }
        LaunchFailure.Check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "PR_CAP_AMBIENT_CLEAR_ALL");
    }

    /// <summary>
    /// In a user namespace that maps only the job's uid and gid there is nothing to drop to: the launcher already is the
    /// job's uid (checked), setgroups is denied, and uid 0 does not exist. Proved by trying setuid(0) anyway.
    /// </summary>
    private static void KeepUnprivileged(uint uid, uint gid)
    {
        // Everything unshare --keep-caps gave (the inheritable set too): nothing is left to pass on.
        var header = stackalloc uint[2] { 0x20080522, 0 }; // _LINUX_CAPABILITY_VERSION_3, this thread
        var data = stackalloc uint[6];
        LaunchFailure.Check(capset(header, data), "capset to nothing");
        if (setuid(0) == 0 || getuid() != uid || getgid() != gid || LinuxProcess.EffectiveUid != uid)
        {
            throw new LaunchFailure("the job would not run unprivileged");
        }
    }

    private static void SetLimit(int resource, long soft, long hard)
    {
        var limit = new RLimit { Current = (ulong)soft, Maximum = (ulong)hard };
        LaunchFailure.Check(setrlimit(resource, &limit), "setrlimit " + resource);
    }
}
