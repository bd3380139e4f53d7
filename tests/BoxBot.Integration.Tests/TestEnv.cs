using System.Diagnostics;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>Where the published executables are, and small process helpers shared by the tests.</summary>
internal static class TestEnv
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The Native AOT executables: $BOXBOT_BIN_DIR, else out/bin. These tests run the real product.</summary>
    public static string BinDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("BOXBOT_BIN_DIR") is { Length: > 0 } d ? d : Path.Combine(RepoRoot, "out", "bin");
            if (!File.Exists(Path.Combine(dir, "boxbot")))
            {
                Assert.Fail($"no published executables in {dir}: run `make publish` first (or `make test`, which does)");
            }
            return dir;
        }
    }

    public static string Exe(string name) => Path.Combine(BinDir, name);

    public static bool IsRoot => LinuxProcess.EffectiveUid == 0;

    public static void RequireRoot()
    {
        if (!IsRoot)
        {
            Assert.Ignore("needs root (CI runs as root): creates users and acts as them");
        }
    }

    public static string TempDir(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory("boxbot-" + prefix + "-").FullName;
        return dir;
    }

    /// <summary>Polls <paramref name="done"/> every 100 ms until it holds; fails the test after 30 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(100);
        }
    }

    public static void Signal(int pid, int signal) => _ = LinuxProcess.Signal(pid, signal);

    public static bool IsAlive(int pid)
    {
        // A zombie still has /proc/PID; it is dead for our purposes.
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }
        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Runs a command to completion, with <paramref name="stdin"/> (or nothing) on its stdin, and returns its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null, string? stdin = null) =>
        RunIn(null, file, args, env, timeout, stdin);

    /// <summary><see cref="Run"/> in the working directory <paramref name="cwd"/> (null: this process's).</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunIn(string? cwd, string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null)
        {
            info.WorkingDirectory = cwd;
        }
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            info.Environment[k] = v;
        }
        using var p = Process.Start(info)!;
        p.StandardInput.Write(stdin ?? "");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static void EnsureUser(string name)
    {
        if (Run("id", [name]).ExitCode != 0)
        {
            var r = Run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
            Assert.That(r.ExitCode, Is.EqualTo(0).Or.EqualTo(9), r.Stderr);
        }
    }

    public static void EnsureGroup(string name)
    {
        var r = Run("groupadd", ["--system", "-f", name]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
    }

    public static uint IdOf(string flag, string name) => uint.Parse(Run("id", [flag, name]).Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public static uint GroupId(string group) =>
        uint.Parse(Run("getent", ["group", group]).Stdout.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "boxbot.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("boxbot.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }
}
