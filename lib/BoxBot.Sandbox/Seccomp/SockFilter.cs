using System.Runtime.InteropServices;

namespace BoxBot.Sandbox.Seccomp;

/// <summary>
/// One classic-BPF instruction, laid out exactly as the kernel's <c>struct sock_filter</c>
/// (u16 code, u8 jt, u8 jf, u32 k: 8 bytes), so a span of these is the program the kernel reads.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K);
