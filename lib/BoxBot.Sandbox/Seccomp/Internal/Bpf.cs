namespace BoxBot.Sandbox.Seccomp.Internal;

/// <summary>Classic-BPF and seccomp constants (linux/filter.h, linux/seccomp.h, linux/audit.h).</summary>
internal static class Bpf
{
    // Instruction classes and modes.
    public const ushort LD = 0x00, JMP = 0x05, RET = 0x06;
    public const ushort W = 0x00, ABS = 0x20;
    public const ushort JEQ = 0x10, JGE = 0x30, JSET = 0x40, K = 0x00;

    public const ushort LdWAbs = LD | W | ABS;
    public const ushort JeqK = JMP | JEQ | K;
    public const ushort JgeK = JMP | JGE | K;
    public const ushort JsetK = JMP | JSET | K;
    public const ushort RetK = RET | K;

    public const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public const uint SECCOMP_RET_ERRNO = 0x00050000;
    public const uint SECCOMP_RET_ALLOW = 0x7fff0000;

    public const uint AUDIT_ARCH_X86_64 = 0xC000003E;
    public const uint AUDIT_ARCH_AARCH64 = 0xC00000B7;

    /// <summary>Syscall numbers at or above this on x86_64 are the x32 ABI.</summary>
    public const uint X32_SYSCALL_BIT = 0x40000000;

    public const uint CLONE_THREAD = 0x00010000;
    public const uint AT_EMPTY_PATH = 0x1000;
    public const uint ENOSYS = 38;
    public const uint EACCES = 13;
    public const uint AF_UNIX = 1;

    /// <summary>BPF_MAXINSNS: the kernel refuses longer classic programs.</summary>
    public const int MaxInstructions = 4096;

    // struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
    public const uint OffsetNr = 0;
    public const uint OffsetArch = 4;

    /// <summary>Offset of the low 32 bits of args[i] (little endian: the low word comes first).</summary>
    public static uint OffsetArgLow(int i) => 16 + 8 * (uint)i;
}
