using System.Text.RegularExpressions;
using BoxBot.Sandbox.Seccomp.Internal;

namespace BoxBot.Sandbox.Tests;

/// <summary>Every number in the policy's table, against the kernel's own headers (linux-libc-dev).</summary>
public sealed partial class SyscallHeaderTests
{
    private const string X86_64Header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
    private const string GenericHeader = "/usr/include/asm-generic/unistd.h";

    /// <summary>Calls newer than Debian bookworm's headers (Linux 6.1): allowed to be absent, never to differ.</summary>
    private static readonly HashSet<string> NewerThanHeaders = ["open_tree_attr"];

    // "#define __NR_execve 59", and in the generic table also "#define __NR3264_mmap 222".
    [GeneratedRegex(@"^#define\s+__NR(?:3264)?_(\w+)\s+(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Define();

    private static Dictionary<string, int> Parse(string path)
    {
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is missing; install linux-libc-dev");
        }
        var table = new Dictionary<string, int>();
        foreach (Match m in Define().Matches(File.ReadAllText(path)))
        {
            table.TryAdd(m.Groups[1].Value, int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.That(table, Has.Count.GreaterThan(250), $"{path} parsed to too few syscalls");
        return table;
    }

    private static void Check(Dictionary<string, int> header, Func<SyscallTable.Entry, int?> number, string arch)
    {
        Assert.Multiple(() =>
        {
            foreach (var entry in SyscallTable.All)
            {
                var has = header.TryGetValue(entry.Name, out var expected);
                if (number(entry) is int nr)
                {
                    if (has)
                    {
                        Assert.That(nr, Is.EqualTo(expected), $"{entry.Name} on {arch}");
                    }
                    else
                    {
                        Assert.That(NewerThanHeaders, Does.Contain(entry.Name), $"{entry.Name} on {arch} is not in the header");
                    }
                }
                else
                {
                    Assert.That(has, Is.False, $"{entry.Name} exists on {arch} (number {expected}) but the table says it does not");
                }
            }
        });
    }

    [Test]
    public void Every_x86_64_number_matches_asm_unistd_64_h()
    {
        Check(Parse(X86_64Header), e => e.X86_64, "x86_64");
    }

    [Test]
    public void Every_aarch64_number_matches_the_generic_unistd_h()
    {
        Check(Parse(GenericHeader), e => e.Aarch64, "aarch64");
    }
}
