namespace BoxBot.Sandbox.Seccomp.Internal;

/// <summary>
/// A tiny assembler for classic BPF with forward labels. Jump offsets are 8-bit and relative to
/// the next instruction, so they are resolved once every label is placed, and an offset that does
/// not fit (or points backwards) is a bug in the policy, reported rather than truncated.
/// </summary>
internal sealed class ProgramBuilder
{
    private readonly List<(ushort Code, string? Jt, string? Jf, uint K)> _code = [];
    private readonly Dictionary<string, int> _labels = [];

    /// <summary>A jump target meaning "the next instruction" (offset 0).</summary>
    public const string Next = "";

    public void Load(uint offset) => _code.Add((Bpf.LdWAbs, null, null, offset));

    public void Jump(ushort code, uint k, string jt, string jf) => _code.Add((code, jt, jf, k));

    public void Return(uint value) => _code.Add((Bpf.RetK, null, null, value));

    public void Label(string name)
    {
        if (!_labels.TryAdd(name, _code.Count))
        {
            throw new InvalidOperationException($"BPF label '{name}' placed twice");
        }
    }

    public SockFilter[] Build()
    {
        var program = new SockFilter[_code.Count];
        for (var pc = 0; pc < _code.Count; pc++)
        {
            var (code, jt, jf, k) = _code[pc];
            program[pc] = new SockFilter(code, Offset(pc, jt), Offset(pc, jf), k);
        }
        if (program.Length > Bpf.MaxInstructions)
        {
            throw new InvalidOperationException($"seccomp program has {program.Length} instructions; the kernel accepts at most {Bpf.MaxInstructions}");
        }
        return program;
    }

    private byte Offset(int pc, string? label)
    {
        if (label is null || label.Length == 0)
        {
            return 0;
        }
        if (!_labels.TryGetValue(label, out var target))
        {
            throw new InvalidOperationException($"BPF label '{label}' is never placed");
        }
        var offset = target - (pc + 1);
        if (offset is < 0 or > byte.MaxValue)
        {
            throw new InvalidOperationException($"BPF jump from {pc} to '{label}' ({target}) needs offset {offset}; classic BPF allows 0..255 forward");
        }
        return (byte)offset;
    }
}
