namespace BoxBot.Sandbox.Seccomp.Internal;

/// <summary>
/// The one place syscall numbers live. x86_64 numbers come from asm/unistd_64.h, aarch64 numbers
/// from the generic table (asm-generic/unistd.h); a unit test parses both headers and compares
/// every entry. <c>null</c> means the call does not exist on that architecture (aarch64 has no
/// fork, vfork, uselib; neither has a plain umount).
/// </summary>
internal static class SyscallTable
{
    internal readonly record struct Entry(string Name, int? X86_64, int? Aarch64)
    {
        public int? On(SeccompArch arch) => arch switch
        {
            SeccompArch.X86_64 => X86_64,
            SeccompArch.Aarch64 => Aarch64,
            _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "unknown seccomp architecture"),
        };
    }

    /// <summary>Killed outright (SECCOMP_RET_KILL_PROCESS), whatever the arguments.</summary>
    internal static readonly Entry[] Killed =
    [
        // Starting programs or processes: the only exec is the launcher's execveat, and clone is checked by argument.
        new("execve", 59, 221),
        new("fork", 57, null),
        new("vfork", 58, null),
        // Reaching into other processes.
        new("ptrace", 101, 117),
        new("process_vm_readv", 310, 270),
        new("process_vm_writev", 311, 271),
        // Changing the filesystem view (classic and new mount API).
        new("mount", 165, 40),
        new("umount2", 166, 39),
        new("pivot_root", 155, 41),
        new("chroot", 161, 51),
        new("move_mount", 429, 429),
        new("open_tree", 428, 428),
        new("fsopen", 430, 430),
        new("fsconfig", 431, 431),
        new("fsmount", 432, 432),
        new("fspick", 433, 433),
        new("mount_setattr", 442, 442),
        // Linux 6.15; newer than Debian bookworm's headers, same number on every arch since the unified table (424+).
        new("open_tree_attr", 467, 467),
        new("open_by_handle_at", 304, 265),
        new("name_to_handle_at", 303, 264),
        new("quotactl", 179, 60),
        new("quotactl_fd", 443, 443),
        new("acct", 163, 89),
        // Namespaces.
        new("unshare", 272, 97),
        new("setns", 308, 268),
        // Kernel attack surface a Python script has no business with.
        // System V IPC and POSIX message queues: jobs share the runner's IPC namespace (no namespace of their own, to
        // keep the sandbox unit's namespace list short), so they may not use it at all.
        new("shmget", 29, 194),
        new("shmat", 30, 196),
        new("shmctl", 31, 195),
        new("shmdt", 67, 197),
        new("semget", 64, 190),
        new("semop", 65, 193),
        new("semctl", 66, 191),
        new("semtimedop", 220, 192),
        new("msgget", 68, 186),
        new("msgsnd", 69, 189),
        new("msgrcv", 70, 188),
        new("msgctl", 71, 187),
        new("mq_open", 240, 180),
        new("mq_unlink", 241, 181),
        new("mq_timedsend", 242, 182),
        new("mq_timedreceive", 243, 183),
        new("mq_notify", 244, 184),
        new("mq_getsetattr", 245, 185),

        new("bpf", 321, 280),
        new("perf_event_open", 298, 241),
        new("io_uring_setup", 425, 425),
        new("io_uring_enter", 426, 426),
        new("io_uring_register", 427, 427),
        new("userfaultfd", 323, 282),
        new("keyctl", 250, 219),
        new("add_key", 248, 217),
        new("request_key", 249, 218),
        // personality can switch off ASLR (ADDR_NO_RANDOMIZE) for what runs next.
        new("personality", 135, 92),
        new("uselib", 134, null),
        new("lookup_dcookie", 212, 18),
        new("syslog", 103, 116),
        // Whole-machine state.
        new("kexec_load", 246, 104),
        new("kexec_file_load", 320, 294),
        new("init_module", 175, 105),
        new("finit_module", 313, 273),
        new("delete_module", 176, 106),
        new("reboot", 169, 142),
        new("swapon", 167, 224),
        new("swapoff", 168, 225),
        new("settimeofday", 164, 170),
        new("clock_settime", 227, 112),
        new("adjtimex", 159, 171),
        new("clock_adjtime", 305, 266),
    ];

    /// <summary>Allowed only with CLONE_THREAD in its flags (args[0] on both arches).</summary>
    internal static readonly Entry Clone = new("clone", 56, 220);

    /// <summary>Fails with ENOSYS: its flags sit in a struct the filter cannot read, and libc falls back to clone.</summary>
    internal static readonly Entry Clone3 = new("clone3", 435, 435);

    /// <summary>Allowed only for the launcher's pre-opened interpreter descriptor with AT_EMPTY_PATH.</summary>
    internal static readonly Entry Execveat = new("execveat", 322, 281);

    /// <summary>
    /// Fails with EACCES for AF_UNIX: a job's only Unix socket is its SDK channel (inherited). In the host's
    /// network namespace (network "internet") abstract Unix sockets of host services would otherwise be
    /// reachable; path ones are out of sight anyway. socketpair stays allowed (asyncio's self-pipe).
    /// </summary>
    internal static readonly Entry Socket = new("socket", 41, 198);

    /// <summary>Allowed calls named here only so <see cref="SeccompPolicy.SyscallName"/> and the tests can refer to them.</summary>
    internal static readonly Entry[] Named =
    [
        new("read", 0, 63),
        new("write", 1, 64),
        new("close", 3, 57),
        new("openat", 257, 56),
        new("mmap", 9, 222),
        new("mprotect", 10, 226),
        new("futex", 202, 98),
        new("exit_group", 231, 94),
        new("seccomp", 317, 277),
        new("memfd_create", 319, 279),
    ];

    /// <summary>Every entry, for name lookups and the header test.</summary>
    internal static IEnumerable<Entry> All => Killed.Append(Clone).Append(Clone3).Append(Execveat).Append(Socket).Concat(Named);

    internal static string? NameOf(SeccompArch arch, int number)
    {
        foreach (var entry in All)
        {
            if (entry.On(arch) == number)
            {
                return entry.Name;
            }
        }
        return null;
    }
}
