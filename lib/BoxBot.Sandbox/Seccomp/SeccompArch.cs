namespace BoxBot.Sandbox.Seccomp;

/// <summary>The architectures the seccomp policy knows the syscall numbers of.</summary>
public enum SeccompArch
{
    /// <summary>x86_64 (AUDIT_ARCH_X86_64); the x32 ABI and i386 entry points are refused.</summary>
    X86_64,

    /// <summary>aarch64 (AUDIT_ARCH_AARCH64); the AArch32 compat entry point is refused.</summary>
    Aarch64,
}
