using System.Runtime.InteropServices;

namespace BoxBot.Sandbox.Seccomp.Internal;

internal static unsafe partial class SeccompNative
{
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const nint SECCOMP_SET_MODE_FILTER = 1;
    public const nint SECCOMP_FILTER_FLAG_TSYNC = 1;

    /// <summary>struct sock_fprog: unsigned short len, then (after padding) the instruction pointer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFprog
    {
        public ushort Len;
        public SockFilter* Filter;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    // syscall(2) is variadic; glibc's implementation only moves registers, so a fixed signature of
    // word-sized arguments is passed correctly on x86_64 and aarch64 Linux.
    [LibraryImport("libc", SetLastError = true)]
    public static partial nint syscall(nint number, nint arg1, nint arg2, void* arg3);

    public static nint SeccompSyscallNumber(SeccompArch arch) => arch switch
    {
        SeccompArch.X86_64 => 317,
        SeccompArch.Aarch64 => 277,
        _ => throw new PlatformNotSupportedException($"seccomp syscall number unknown for {arch}"),
    };
}
