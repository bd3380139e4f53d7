using System.Buffers.Binary;
using BoxBot.Sandbox.Seccomp;

namespace BoxBot.Sandbox.Tests;

/// <summary>
/// A deliberately small classic-BPF interpreter: exactly the instructions the seccomp policy is
/// meant to use (LD|W|ABS, JEQ/JGE/JSET with K, RET K). Any other instruction, a misaligned or
/// out-of-range load, or a jump past the end fails the test, so the policy cannot quietly grow an
/// instruction these tests do not understand.
/// </summary>
internal static class BpfInterpreter
{
    private const ushort LdWAbs = 0x20, JeqK = 0x15, JgeK = 0x35, JsetK = 0x45, RetK = 0x06;

    /// <summary>sizeof(struct seccomp_data).</summary>
    public const int SeccompDataSize = 64;

    public static uint Run(SockFilter[] program, ReadOnlySpan<byte> seccompData)
    {
        Assert.That(seccompData.Length, Is.EqualTo(SeccompDataSize));
        uint a = 0;
        var pc = 0;
        while (true)
        {
            if (pc < 0 || pc >= program.Length)
            {
                Assert.Fail($"BPF program ran off its end at {pc} (length {program.Length})");
            }
            var insn = program[pc];
            switch (insn.Code)
            {
                case LdWAbs:
                    if (insn.K % 4 != 0 || insn.K + 4 > SeccompDataSize)
                    {
                        Assert.Fail($"load at {pc} reads offset {insn.K}, outside struct seccomp_data or misaligned");
                    }
                    a = BinaryPrimitives.ReadUInt32LittleEndian(seccompData[(int)insn.K..]);
                    pc++;
                    break;
                case JeqK:
                    pc += 1 + (a == insn.K ? insn.Jt : insn.Jf);
                    break;
                case JgeK:
                    pc += 1 + (a >= insn.K ? insn.Jt : insn.Jf);
                    break;
                case JsetK:
                    pc += 1 + ((a & insn.K) != 0 ? insn.Jt : insn.Jf);
                    break;
                case RetK:
                    return insn.K;
                default:
                    Assert.Fail($"instruction {pc} has code 0x{insn.Code:x4}, which this interpreter (and the policy) does not use");
                    return 0;
            }
        }
    }

    /// <summary>struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }, little endian.</summary>
    public static byte[] Data(uint arch, uint nr, params ulong[] args)
    {
        Assert.That(args.Length, Is.LessThanOrEqualTo(6));
        var data = new byte[SeccompDataSize];
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(0), nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), 0x7f00_dead_beef);
        for (var i = 0; i < args.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + 8 * i), args[i]);
        }
        return data;
    }
}
