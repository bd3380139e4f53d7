using BoxBot.Sandbox.Seccomp;
using BoxBot.Sandbox.Seccomp.Internal;

namespace BoxBot.Sandbox.Tests;

/// <summary>The filter, run through a BPF interpreter against seccomp_data inputs, on both arches.</summary>
public sealed class SeccompPolicyTests
{
    private const int ExecFd = 100;
    private const uint Kill = 0x80000000, Allow = 0x7fff0000, ErrnoEnosys = 0x00050000 | 38;
    private const ulong AtEmptyPath = 0x1000;
    private const ulong CloneThreadFlags = 0x003d0f00; // what glibc's pthread_create passes
    private const ulong ForkFlags = 0x01200011; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
    private const ulong VforkFlags = 0x00004111; // CLONE_VM | CLONE_VFORK | SIGCHLD (posix_spawn)

    private static readonly SeccompArch[] Arches = [SeccompArch.X86_64, SeccompArch.Aarch64];

    private static uint AuditArch(SeccompArch arch) => arch == SeccompArch.X86_64 ? 0xC000003E : 0xC00000B7;

    private static uint Nr(SeccompArch arch, SyscallTable.Entry entry) =>
        (uint)(entry.On(arch) ?? throw new AssertionException($"{entry.Name} has no number on {arch}"));

    private static uint Run(SeccompArch arch, uint nr, params ulong[] args) =>
        BpfInterpreter.Run(SeccompPolicy.Build(ExecFd, arch), BpfInterpreter.Data(AuditArch(arch), nr, args));

    private static IEnumerable<TestCaseData> KilledCalls() =>
        from arch in Arches
        from entry in SyscallTable.Killed
        where entry.On(arch) is not null
        select new TestCaseData(arch, entry.Name).SetArgDisplayNames(arch.ToString(), entry.Name);

    [TestCaseSource(nameof(KilledCalls))]
    public void Each_denied_syscall_kills_the_process(SeccompArch arch, string name)
    {
        var entry = SyscallTable.Killed.Single(e => e.Name == name);
        Assert.That(Run(arch, Nr(arch, entry), 0, 0, 0, 0, 0, 0), Is.EqualTo(Kill));
        Assert.That(Run(arch, Nr(arch, entry), CloneThreadFlags, AtEmptyPath, 0, 0, AtEmptyPath, 0), Is.EqualTo(Kill), "arguments do not matter");
    }

    [Test]
    public void The_kill_list_covers_the_architecture_documents_calls()
    {
        string[] required =
        [
            "execve", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
            "unshare", "setns", "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
            "delete_module", "reboot", "swapon", "swapoff", "keyctl", "add_key", "request_key", "io_uring_setup",
            "io_uring_enter", "io_uring_register", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "move_mount",
            "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "quotactl", "acct", "settimeofday",
            "clock_settime", "adjtimex", "clock_adjtime", "syslog", "lookup_dcookie", "personality",
        ];
        foreach (var arch in Arches)
        {
            var killed = SyscallTable.Killed.Where(e => e.On(arch) is not null).Select(e => e.Name).ToList();
            Assert.That(killed, Is.SupersetOf(required), arch.ToString());
        }
        var x86Only = SyscallTable.Killed.Where(e => e.X86_64 is not null).Select(e => e.Name);
        Assert.That(x86Only, Is.SupersetOf(new[] { "fork", "vfork", "uselib" }));
    }

    [TestCase("read")]
    [TestCase("write")]
    [TestCase("openat")]
    [TestCase("mmap")]
    [TestCase("futex")]
    [TestCase("memfd_create")]
    [TestCase("exit_group")]
    public void Ordinary_syscalls_are_allowed(string name)
    {
        var entry = SyscallTable.Named.Single(e => e.Name == name);
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, entry), 3, 0, 0, 0, 0, 0), Is.EqualTo(Allow), $"{name} on {arch}");
        }
    }

    [Test]
    public void Numbers_the_policy_does_not_name_are_allowed_by_default()
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, 499), Is.EqualTo(Allow), arch.ToString());
        }
    }

    [Test]
    public void Clone_with_CLONE_THREAD_is_allowed()
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, SyscallTable.Clone), CloneThreadFlags), Is.EqualTo(Allow), arch.ToString());
            Assert.That(Run(arch, Nr(arch, SyscallTable.Clone), 0x10000), Is.EqualTo(Allow), arch.ToString());
        }
    }

    [TestCase(ForkFlags)]
    [TestCase(VforkFlags)]
    [TestCase(0UL)]
    [TestCase(0x0001_0000_0000_0011UL)] // CLONE_THREAD's bit shifted into the high word, which the kernel ignores
    public void Clone_without_CLONE_THREAD_is_fork_and_kills_the_process(ulong flags)
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, SyscallTable.Clone), flags), Is.EqualTo(Kill), arch.ToString());
        }
    }

    [TestCase(1UL, 0x00050000U | 13)] // AF_UNIX: EACCES
    [TestCase(0x1_0000_0001UL, 0x00050000U | 13)] // the kernel reads domain as int: high word ignored, as by the filter
    [TestCase(2UL, Allow)] // AF_INET
    [TestCase(10UL, Allow)] // AF_INET6
    [TestCase(16UL, Allow)] // AF_NETLINK
    public void Socket_refuses_only_new_unix_sockets(ulong domain, uint expected)
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, SyscallTable.Socket), domain, 1, 0), Is.EqualTo(expected), arch.ToString());
        }
    }

    [Test]
    public void Clone3_fails_with_ENOSYS_so_libc_falls_back_to_clone()
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, SyscallTable.Clone3), 0x7ffd_0000_1000, 88), Is.EqualTo(ErrnoEnosys), arch.ToString());
        }
    }

    [TestCase(100UL, AtEmptyPath, Allow)]
    [TestCase(0x1_0000_0064UL, AtEmptyPath, Allow)] // the kernel reads dirfd as int: high word ignored, as by the filter
    [TestCase(100UL, 0x1_0000_1000UL, Allow)] // flags are an int too
    [TestCase(3UL, AtEmptyPath, Kill)]
    [TestCase(0xFFFF_FF9CUL, AtEmptyPath, Kill)] // AT_FDCWD
    [TestCase(101UL, AtEmptyPath, Kill)]
    [TestCase(100UL, 0UL, Kill)]
    [TestCase(100UL, 0x1100UL, Kill)] // AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW
    [TestCase(100UL, 0x0001_0000_0000UL, Kill)]
    public void Execveat_runs_only_the_launchers_descriptor_with_AT_EMPTY_PATH(ulong dirfd, ulong flags, uint expected)
    {
        foreach (var arch in Arches)
        {
            Assert.That(Run(arch, Nr(arch, SyscallTable.Execveat), dirfd, 0x5555_0000, 0x5555_1000, 0x5555_2000, flags), Is.EqualTo(expected), arch.ToString());
        }
    }

    [Test]
    public void The_allowed_exec_descriptor_is_the_one_given_to_Build()
    {
        var program = SeccompPolicy.Build(1023, SeccompArch.X86_64);
        Assert.That(BpfInterpreter.Run(program, BpfInterpreter.Data(0xC000003E, 322, 1023, 0, 0, 0, AtEmptyPath)), Is.EqualTo(Allow));
        Assert.That(BpfInterpreter.Run(program, BpfInterpreter.Data(0xC000003E, 322, 100, 0, 0, 0, AtEmptyPath)), Is.EqualTo(Kill));
    }

    [TestCase(SeccompArch.X86_64, 0x40000003u)] // i386 (int 0x80)
    [TestCase(SeccompArch.X86_64, 0xC00000B7u)]
    [TestCase(SeccompArch.Aarch64, 0x40000028u)] // AArch32 compat
    [TestCase(SeccompArch.Aarch64, 0xC000003Eu)]
    [TestCase(SeccompArch.X86_64, 0u)]
    public void A_call_from_another_architecture_kills_the_process_even_for_read(SeccompArch arch, uint auditArch)
    {
        var read = Nr(arch, SyscallTable.Named.Single(e => e.Name == "read"));
        Assert.That(BpfInterpreter.Run(SeccompPolicy.Build(ExecFd, arch), BpfInterpreter.Data(auditArch, read, 0)), Is.EqualTo(Kill));
    }

    [TestCase(0x40000000u)] // x32 read
    [TestCase(0x40000000u + 59)] // x32 execve
    [TestCase(0x40000000u + 520)] // x32 compat execve
    [TestCase(0xFFFFFFFFu)]
    public void An_x32_syscall_on_x86_64_kills_the_process(uint nr)
    {
        Assert.That(Run(SeccompArch.X86_64, nr), Is.EqualTo(Kill));
    }

    [Test]
    public void The_program_is_short_and_every_jump_lands_inside_it()
    {
        foreach (var arch in Arches)
        {
            var program = SeccompPolicy.Build(ExecFd, arch);
            Assert.That(program.Length, Is.LessThan(4096).And.GreaterThan(0));
            Assert.That(program[^1].Code, Is.EqualTo((ushort)0x06), "the last instruction must return");
            for (var pc = 0; pc < program.Length; pc++)
            {
                if ((program[pc].Code & 0x07) == 0x05)
                {
                    Assert.That(pc + 1 + program[pc].Jt, Is.LessThan(program.Length), $"{arch} jt at {pc}");
                    Assert.That(pc + 1 + program[pc].Jf, Is.LessThan(program.Length), $"{arch} jf at {pc}");
                }
            }
        }
    }

    [Test]
    public void The_interpreter_refuses_an_instruction_the_policy_does_not_use()
    {
        SockFilter[] program = [new(0x00, 0, 0, 0), new(0x06, 0, 0, Allow)]; // LD|W|IMM
        Assert.Throws<AssertionException>(() => BpfInterpreter.Run(program, BpfInterpreter.Data(0xC000003E, 0)));
    }

    [Test]
    public void A_negative_exec_descriptor_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeccompPolicy.Build(-1, SeccompArch.X86_64));
    }

    [Test]
    public void Build_without_an_arch_targets_the_running_one()
    {
        Assert.That(SeccompPolicy.Build(ExecFd), Is.EqualTo(SeccompPolicy.Build(ExecFd, SeccompPolicy.Current)));
        var expected = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? SeccompArch.Aarch64 : SeccompArch.X86_64;
        Assert.That(SeccompPolicy.Current, Is.EqualTo(expected));
    }

    [Test]
    public void ToBytes_lays_out_sock_filter_as_the_kernel_reads_it()
    {
        SockFilter[] program = [new(0x15, 2, 7, 0xC000003E)];
        Assert.That(SeccompPolicy.ToBytes(program), Is.EqualTo(new byte[] { 0x15, 0x00, 2, 7, 0x3E, 0x00, 0x00, 0xC0 }));
        Assert.That(SeccompPolicy.ToBytes(SeccompPolicy.Build(ExecFd, SeccompArch.X86_64)), Has.Length.EqualTo(8 * SeccompPolicy.Build(ExecFd, SeccompArch.X86_64).Length));
    }

    [TestCase(SeccompArch.X86_64, 59, "execve")]
    [TestCase(SeccompArch.Aarch64, 221, "execve")]
    [TestCase(SeccompArch.X86_64, 56, "clone")]
    [TestCase(SeccompArch.Aarch64, 435, "clone3")]
    [TestCase(SeccompArch.X86_64, 322, "execveat")]
    [TestCase(SeccompArch.X86_64, 9, "mmap")]
    [TestCase(SeccompArch.Aarch64, 222, "mmap")]
    public void SyscallName_names_a_number_on_its_arch(SeccompArch arch, int nr, string name)
    {
        Assert.That(SeccompPolicy.SyscallName(arch, nr), Is.EqualTo(name));
    }

    [Test]
    public void SyscallName_is_null_for_a_number_it_does_not_know()
    {
        Assert.That(SeccompPolicy.SyscallName(SeccompArch.X86_64, 499), Is.Null);
        Assert.That(SeccompPolicy.SyscallName(SeccompArch.Aarch64, 57 + 1000), Is.Null);
    }
}
