using System.Runtime.InteropServices;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>Scripts that try to start other programs or reach the kernel's dangerous calls: seccomp kills them.</summary>
[Category("root")]
public sealed class EscapeTests(string start) : WarmAndCold(start)
{
    // (x86_64, aarch64) numbers; aarch64 has no fork(2).
    private static readonly Dictionary<string, (int X64, int Arm64)> Numbers = new()
    {
        ["execve"] = (59, 221),
        ["execveat"] = (322, 281),
        ["fork"] = (57, -1),
        ["io_uring_setup"] = (425, 425),
        ["ptrace"] = (101, 117),
        ["unshare"] = (272, 97),
        ["mount"] = (165, 40),
        ["bpf"] = (321, 280),
    };

    private static int Number(string syscall)
    {
        var (x64, arm64) = Numbers[syscall];
        var nr = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? arm64 : x64;
        Assume.That(nr, Is.GreaterThan(0), syscall + " does not exist on this architecture");
        return nr;
    }

    private static async Task AssertKilledBySeccompAsync(string script, params string[] syscalls)
    {
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("killed"), Jobs.Describe(r));
        Assert.That(r.KilledBy, Is.EqualTo("seccomp"), Jobs.Describe(r));
        Assert.That(r.Signal, Is.EqualTo(31), Jobs.Describe(r));
        // The kernel rate-limits audit lines on the console (10 per 5 s), so a burst of kills may go unnamed.
        Assert.That(r.Syscall, Is.Null.Or.AnyOf(syscalls), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("before"));
        Assert.That(r.Stdout, Does.Not.Contain("after"), Jobs.Describe(r));
    }

    [Test]
    public Task Os_system_kills_the_job() =>
        AssertKilledBySeccompAsync("import os\nprint('before')\nos.system('id > /workspace/pwned')\nprint('after')", "clone", "vfork", "fork");

    [Test]
    public Task Subprocess_run_kills_the_job() =>
        AssertKilledBySeccompAsync("import subprocess\nprint('before')\nsubprocess.run(['/usr/bin/id'])\nprint('after')", "clone", "vfork", "fork");

    [Test]
    public Task Os_fork_kills_the_job() =>
        AssertKilledBySeccompAsync("import os\nprint('before')\npid = os.fork()\nprint('after', pid)", "clone", "fork");

    [Test]
    public Task Os_posix_spawn_kills_the_job() =>
        AssertKilledBySeccompAsync("import os\nprint('before')\nos.posix_spawn('/usr/bin/id', ['id'], {})\nprint('after')", "clone", "vfork");

    [Test]
    public Task A_fork_bomb_is_killed_at_its_first_fork() =>
        AssertKilledBySeccompAsync("import os\nprint('before')\nwhile True:\n    os.fork()\nprint('after')", "clone", "fork");

    [TestCase("execve", "b'/usr/bin/id', None, None")]
    [TestCase("execveat", "3, b'', None, None, 0x1000")]
    [TestCase("fork", "")]
    [TestCase("io_uring_setup", "8, ctypes.create_string_buffer(128)")]
    [TestCase("ptrace", "0, 0, 0, 0")]
    [TestCase("unshare", "0x20000")]
    [TestCase("mount", "b'none', b'/workspace', b'tmpfs', 0, None")]
    [TestCase("bpf", "0, None, 0")]
    public Task A_raw_syscall_through_ctypes_kills_the_job_and_is_named(string syscall, string args)
    {
        var call = args.Length == 0 ? "" : ", " + args;
        var script = $"""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open('/workspace/main.py', os.O_RDONLY)
            print('before', fd)
            rc = libc.syscall({Number(syscall)}{call})
            print('after', rc, ctypes.get_errno())
            """;
        return AssertKilledBySeccompAsync(script, syscall);
    }

    [Test]
    public async Task The_killing_syscall_is_named_from_the_kernels_audit_record()
    {
        const string script = "import ctypes\nprint('before')\nctypes.CDLL(None).syscall(" + "{0}" + ", 0x20000)";
        var nr = Number("unshare");
        var r = await Jobs.RunAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, script, nr));
        if (r.Syscall is null)
        {
            await Task.Delay(TimeSpan.FromSeconds(6)); // past the console rate limit of the kills before
            r = await Jobs.RunAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, script, nr));
        }
        Assert.That((r.KilledBy, r.Syscall), Is.EqualTo(("seccomp", "unshare")), Jobs.Describe(r));
    }

    [Test]
    public async Task Clone3_fails_with_ENOSYS_and_the_script_carries_on()
    {
        const string script = """
            import ctypes, errno
            libc = ctypes.CDLL(None, use_errno=True)
            args = ctypes.create_string_buffer(88)
            rc = libc.syscall(435, args, 88)
            print('clone3', rc, errno.errorcode.get(ctypes.get_errno()))
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("clone3 -1 ENOSYS"));
    }
}
