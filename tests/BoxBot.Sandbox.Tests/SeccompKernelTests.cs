using System.Diagnostics;
using BoxBot.Sandbox.Seccomp;
using BoxBot.Sandbox.Seccomp.Internal;

namespace BoxBot.Sandbox.Tests;

/// <summary>
/// The real kernel enforcing the real program. The filter cannot be installed in the test runner
/// (it would confine it), so Debian's python3 loads <see cref="SeccompPolicy.ToBytes"/> output
/// with ctypes, installs it with TSYNC while a second thread runs, and then attacks.
/// </summary>
public sealed class SeccompKernelTests
{
    private const string Python = "/usr/bin/python3";
    private const int ExecFd = 100;
    private const int SigsysExitCode = 128 + 31; // .NET reports death by signal N as 128 + N

    // Installs the filter the way the launcher does (no_new_privs, then seccomp with TSYNC) while a
    // second thread is alive, prints "installed", then runs the action in argv[4].
    private const string Prologue = """
        import ctypes, os, resource, sys, threading
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        L = ctypes.c_long
        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        with open(sys.argv[1], "rb") as f:
            data = f.read()
        seccomp_nr, execveat_nr = int(sys.argv[2]), int(sys.argv[3])
        buf = ctypes.create_string_buffer(data, len(data))
        prog = SockFprog(len(data) // 8, ctypes.cast(buf, ctypes.c_void_p))
        stop = threading.Event()
        bystander = threading.Thread(target=stop.wait)
        bystander.start()
        if libc.prctl(38, L(1), L(0), L(0), L(0)) != 0:
            print("prctl failed, errno", ctypes.get_errno(), file=sys.stderr); os._exit(90)
        r = libc.syscall(L(seccomp_nr), L(1), L(1), ctypes.byref(prog))
        if r != 0:
            print("seccomp returned", r, "errno", ctypes.get_errno(), file=sys.stderr); os._exit(91)
        with open("/proc/thread-self/status") as f:
            assert "Seccomp:\t2" in f.read()
        with open(f"/proc/self/task/{bystander.native_id}/status") as f:
            if "Seccomp:\t2" not in f.read():
                print("TSYNC did not reach the other thread", file=sys.stderr); os._exit(92)
        print("installed", flush=True)

        def execveat(fd, flags):
            os.dup2(os.open("/bin/true", os.O_RDONLY), fd)
            argv = (ctypes.c_char_p * 2)(b"true", None)
            envp = (ctypes.c_char_p * 1)(None)
            return libc.syscall(L(execveat_nr), L(fd), ctypes.c_char_p(b""), argv, envp, L(flags))

        """;

    private static readonly Dictionary<string, string> Forbidden = new()
    {
        ["fork"] = "os.fork()",
        ["execv"] = "os.execv('/bin/true', ['true'])",
        ["system"] = "os.system('true')",
        ["subprocess"] = "import subprocess; subprocess.run(['/bin/true'])",
        ["posix_spawn"] = "os.posix_spawn('/bin/true', ['true'], {})",
        ["execveat_fd3"] = "execveat(3, 0x1000)",
        ["execveat_allowed_fd_without_AT_EMPTY_PATH"] = $"execveat({ExecFd}, 0)",
        ["unshare"] = "libc.unshare(ctypes.c_int(0))",
        ["ptrace"] = "libc.ptrace(L(0), L(0), L(0), L(0))",
        ["personality"] = "libc.personality(ctypes.c_ulong(0xffffffff))",
    };

    [TestCase("fork")]
    [TestCase("execv")]
    [TestCase("system")]
    [TestCase("subprocess")]
    [TestCase("posix_spawn")]
    [TestCase("execveat_fd3")]
    [TestCase("execveat_allowed_fd_without_AT_EMPTY_PATH")]
    [TestCase("unshare")]
    [TestCase("ptrace")]
    [TestCase("personality")]
    public async Task A_forbidden_call_kills_the_confined_python_with_SIGSYS(string attack)
    {
        var result = await RunConfinedAsync(Forbidden[attack] + "\nprint('survived', flush=True)\nstop.set()\n");
        Assert.That(result.Stdout, Does.Contain("installed"), result.ToString());
        Assert.That(result.Stdout, Does.Not.Contain("survived"), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(SigsysExitCode), result.ToString());
    }

    [Test]
    public async Task Ordinary_work_with_threads_runs_to_a_clean_exit()
    {
        const string Work = """
            import hashlib, mmap, tempfile, time
            results = []
            def work(i):
                with tempfile.TemporaryDirectory() as d:
                    p = os.path.join(d, f"f{i}")
                    with open(p, "wb") as f:
                        f.write(os.urandom(65536))
                    with open(p, "rb") as f:
                        results.append(hashlib.sha256(f.read()).hexdigest())
                m = mmap.mmap(-1, 1 << 20)
                m[0:5] = b"hello"
                m.close()
                time.sleep(0.01)
            threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            os.close(os.memfd_create("probe"))
            assert len(results) == 8, results
            stop.set(); bystander.join()
            print("done", os.getpid() > 0, flush=True)
            """;
        var result = await RunConfinedAsync(Work);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("installed").And.Contain("done True"), result.ToString());
    }

    [Test]
    public async Task Clone3_fails_with_ENOSYS_and_threads_still_start_through_clone()
    {
        const string Probe = """
            r = libc.syscall(L(435), ctypes.c_void_p(None), L(0))
            e = ctypes.get_errno()
            print("clone3", r, e, flush=True)
            t = threading.Thread(target=lambda: print("thread ran", flush=True)); t.start(); t.join()
            stop.set()
            os._exit(0 if (r, e) == (-1, 38) else 1)
            """;
        var result = await RunConfinedAsync(Probe);
        Assert.That(result.Stdout, Does.Contain("clone3 -1 38").And.Contain("thread ran"), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
    }

    [Test]
    public async Task Execveat_of_the_allowed_descriptor_with_AT_EMPTY_PATH_starts_the_program()
    {
        // The launcher's path: the exec passes and /bin/true runs (still confined) to exit 0.
        var result = await RunConfinedAsync($"execveat({ExecFd}, 0x1000)\nprint('survived', flush=True)\nos._exit(7)\n");
        Assert.That(result.Stdout, Does.Contain("installed").And.Not.Contain("survived"), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
    }

    private sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    private static async Task<Result> RunConfinedAsync(string action)
    {
        if (!File.Exists(Python))
        {
            Assert.Ignore($"{Python} is missing (Debian's python3 package)");
        }
        var arch = SeccompPolicy.Current;
        var dir = Directory.CreateTempSubdirectory("boxbot-seccomp-");
        try
        {
            var filterPath = Path.Combine(dir.FullName, "filter.bpf");
            var scriptPath = Path.Combine(dir.FullName, "job.py");
            await File.WriteAllBytesAsync(filterPath, SeccompPolicy.ToBytes(SeccompPolicy.Build(ExecFd, arch)));
            await File.WriteAllTextAsync(scriptPath, Prologue + action);

            var start = new ProcessStartInfo(Python)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-I", scriptPath, filterPath, SeccompNative.SeccompSyscallNumber(arch).ToString(), SyscallTable.Execveat.On(arch)!.Value.ToString() })
            {
                start.ArgumentList.Add(arg);
            }
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("confined python did not exit within 60 s");
            }
            return new Result(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
