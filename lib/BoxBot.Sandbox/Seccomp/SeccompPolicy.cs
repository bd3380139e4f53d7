using System.Runtime.InteropServices;
using BoxBot.Linux;
using BoxBot.Sandbox.Seccomp.Internal;

namespace BoxBot.Sandbox.Seccomp;

/// <summary>
/// The job process's seccomp-BPF filter: a denylist (default allow, because CPython needs a long
/// tail of syscalls) that kills the whole process on anything that starts programs or processes,
/// reaches into other processes, changes the filesystem view or namespaces, or widens the kernel
/// attack surface. The only exec it lets through is the launcher's <c>execveat</c> of the
/// pre-opened interpreter descriptor (see ARCHITECTURE.md, "The sandbox", points 3 and 4).
/// </summary>
public static class SeccompPolicy
{
    /// <summary>The architecture of this process, which is the one the filter must name.</summary>
    /// <exception cref="PlatformNotSupportedException">Neither x86_64 nor aarch64.</exception>
    public static SeccompArch Current => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => SeccompArch.X86_64,
        Architecture.Arm64 => SeccompArch.Aarch64,
        var other => throw new PlatformNotSupportedException($"no seccomp policy for {other}; boxbot supports x86_64 and aarch64"),
    };

    /// <summary>The filter for the running architecture.</summary>
    /// <param name="allowedExecFd">The launcher's interpreter descriptor, the only one <c>execveat</c> may run.</param>
    public static SockFilter[] Build(int allowedExecFd) => Build(allowedExecFd, Current);

    /// <summary>The filter for <paramref name="arch"/> (tests build both).</summary>
    public static SockFilter[] Build(int allowedExecFd, SeccompArch arch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(allowedExecFd);
        var auditArch = arch switch
        {
            SeccompArch.X86_64 => Bpf.AUDIT_ARCH_X86_64,
            SeccompArch.Aarch64 => Bpf.AUDIT_ARCH_AARCH64,
            _ => throw new PlatformNotSupportedException($"no seccomp policy for {arch}"),
        };
        const string Kill = "kill", Allow = "allow", Enosys = "enosys", Eacces = "eacces", CloneCheck = "clone", ExecveatCheck = "execveat", SocketCheck = "socket";
        const string Next = ProgramBuilder.Next;
        var p = new ProgramBuilder();

        // A syscall number means nothing without its ABI: i386 int 0x80 or AArch32 calls would be
        // read against the wrong table.
        p.Load(Bpf.OffsetArch);
        p.Jump(Bpf.JeqK, auditArch, Next, Kill);
        p.Load(Bpf.OffsetNr);
        if (arch == SeccompArch.X86_64)
        {
            // x32 calls arrive with AUDIT_ARCH_X86_64 and nr | 0x40000000: a second table.
            p.Jump(Bpf.JgeK, Bpf.X32_SYSCALL_BIT, Kill, Next);
        }

        // One JEQ per killed call, all jumping forward to the shared RET KILL at the end; the whole
        // program stays far below 255 instructions, so every offset fits in 8 bits (checked by the builder).
        foreach (var entry in SyscallTable.Killed)
        {
            if (entry.On(arch) is int nr)
            {
                p.Jump(Bpf.JeqK, (uint)nr, Kill, Next);
            }
        }
        p.Jump(Bpf.JeqK, (uint)SyscallTable.Clone.On(arch)!.Value, CloneCheck, Next);
        p.Jump(Bpf.JeqK, (uint)SyscallTable.Clone3.On(arch)!.Value, Enosys, Next);
        p.Jump(Bpf.JeqK, (uint)SyscallTable.Execveat.On(arch)!.Value, ExecveatCheck, Next);
        p.Jump(Bpf.JeqK, (uint)SyscallTable.Socket.On(arch)!.Value, SocketCheck, Allow);

        // clone(flags, ...): flags are args[0] on both arches. Without CLONE_THREAD it is fork.
        p.Label(CloneCheck);
        p.Load(Bpf.OffsetArgLow(0));
        p.Jump(Bpf.JsetK, Bpf.CLONE_THREAD, Allow, Kill);

        // execveat(dirfd, path, argv, envp, flags): only the launcher's descriptor, only AT_EMPTY_PATH.
        // The kernel reads both as int, so the low 32 bits are what count.
        p.Label(ExecveatCheck);
        p.Load(Bpf.OffsetArgLow(0));
        p.Jump(Bpf.JeqK, (uint)allowedExecFd, Next, Kill);
        p.Load(Bpf.OffsetArgLow(4));
        p.Jump(Bpf.JeqK, Bpf.AT_EMPTY_PATH, Allow, Kill);

        // socket(domain, type, protocol): no new Unix sockets (domain is an int: the low 32 bits).
        p.Label(SocketCheck);
        p.Load(Bpf.OffsetArgLow(0));
        p.Jump(Bpf.JeqK, Bpf.AF_UNIX, Eacces, Allow);

        p.Label(Allow);
        p.Return(Bpf.SECCOMP_RET_ALLOW);
        p.Label(Kill);
        p.Return(Bpf.SECCOMP_RET_KILL_PROCESS);
        p.Label(Enosys);
        p.Return(Bpf.SECCOMP_RET_ERRNO | Bpf.ENOSYS);
        p.Label(Eacces);
        p.Return(Bpf.SECCOMP_RET_ERRNO | Bpf.EACCES);
        return p.Build();
    }

    /// <summary>
    /// <c>prctl(PR_SET_NO_NEW_PRIVS, 1)</c>, then <c>seccomp(SECCOMP_SET_MODE_FILTER,
    /// SECCOMP_FILTER_FLAG_TSYNC, program)</c>: the filter applies to every thread of this process
    /// and to everything it executes, irrevocably.
    /// </summary>
    /// <exception cref="SeccompException">Either step failed; the message names it and the errno, or for TSYNC the thread.</exception>
    public static unsafe void Install(ReadOnlySpan<SockFilter> program)
    {
        if (program.IsEmpty || program.Length > Bpf.MaxInstructions)
        {
            throw new ArgumentException($"a seccomp program has 1..{Bpf.MaxInstructions} instructions, not {program.Length}", nameof(program));
        }
        var seccompNr = SeccompNative.SeccompSyscallNumber(Current);

        if (SeccompNative.prctl(SeccompNative.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new SeccompException("prctl(PR_SET_NO_NEW_PRIVS)", errno, null,
                "prctl(PR_SET_NO_NEW_PRIVS, 1) failed: " + Errno.Describe(errno) + "; the job cannot be confined and must not start");
        }

        fixed (SockFilter* filter = program)
        {
            var fprog = new SeccompNative.SockFprog { Len = (ushort)program.Length, Filter = filter };
            var result = SeccompNative.syscall(seccompNr, SeccompNative.SECCOMP_SET_MODE_FILTER, SeccompNative.SECCOMP_FILTER_FLAG_TSYNC, &fprog);
            if (result < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new SeccompException("seccomp(SECCOMP_SET_MODE_FILTER)", errno, null,
                    "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC) failed: " + Errno.Describe(errno) + "; the job cannot be confined and must not start");
            }
            if (result > 0)
            {
                // With TSYNC a positive result is the id of a thread that could not take the filter
                // (it already runs a filter that is not an ancestor of ours); nothing was installed.
                throw new SeccompException("seccomp(SECCOMP_FILTER_FLAG_TSYNC)", 0, (int)result,
                    $"seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC) could not synchronize thread {result}; no filter was installed and the job must not start");
            }
        }
    }

    /// <summary>The program as the kernel reads it (8 bytes per instruction, native endianness), e.g. for a process that installs it itself.</summary>
    public static byte[] ToBytes(ReadOnlySpan<SockFilter> program) => MemoryMarshal.AsBytes(program).ToArray();

    /// <summary>The name of syscall <paramref name="number"/> on <paramref name="arch"/> (for audit lines such as "syscall=59"); null if the policy does not know it.</summary>
    public static string? SyscallName(SeccompArch arch, int number) => SyscallTable.NameOf(arch, number);
}
