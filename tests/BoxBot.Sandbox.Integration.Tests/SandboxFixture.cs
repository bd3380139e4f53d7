using System.Diagnostics;
using BoxBot.Linux;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>One real runner for the whole assembly: root, the real job user, the real launcher, real Python.</summary>
[SetUpFixture]
public sealed class SandboxFixture
{
    public const string JobUser = "boxbot-sandbox";

    public static SandboxRunner Runner { get; private set; } = null!;

    /// <summary>A runner without warm jobs: every job starts cold.</summary>
    public static SandboxRunner ColdRunner { get; private set; } = null!;
    public static string TempRoot { get; private set; } = null!;

    /// <summary>
    /// The launcher: $BOXBOT_SANDBOX_LAUNCHER (e.g. out/bin/boxbot-sandbox, the shipped AOT binary; relative
    /// to the repository root), else the test launcher built with the tests.
    /// </summary>
    public static string LauncherPath
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("BOXBOT_SANDBOX_LAUNCHER");
            return string.IsNullOrEmpty(fromEnv) ? TestLauncherPath : Path.GetFullPath(fromEnv, RepoRoot());
        }
    }

    /// <summary>The test launcher built with the tests (its <c>exec</c> is the shipped one's; it also has a <c>validate</c> command).</summary>
    public static string TestLauncherPath
    {
        get
        {
            // bin/<Configuration>/net10.0/ of the tests → Launcher/bin/<Configuration>/net10.0/
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            var configuration = output.Parent!.Name;
            var project = output.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(project, "Launcher", "bin", configuration, output.Name, "boxbot-sandbox-test-launcher");
        }
    }

    /// <summary>The product's egress proxy (public addresses only) that every fixture runner's internet jobs go through.</summary>
    public static EgressEndpoint Egress { get; private set; } = null!;

    public static SandboxRunnerOptions Options(string name) => new()
    {
        EgressSocket = Egress.SocketPath,
        JobsDir = Path.Combine(TempRoot, name),
        LauncherPath = LauncherPath,
        Python = "/usr/bin/python3",
        JobUser = JobUser,
        SdkRuntimePath = SdkRuntimePath,
    };

    /// <summary>The SDK runtime (bootstrap.py and bb/) as it is in the repository; publishing copies it unchanged.</summary>
    public static string SdkRuntimePath => Path.Combine(RepoRoot(), "lib", "BoxBot.Sandbox", "python");

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "boxbot.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Environment.CurrentDirectory;
    }

    [OneTimeSetUp]
    public void Start()
    {
        if (LinuxProcess.EffectiveUid != 0)
        {
            Assert.Ignore("the sandbox runner needs root");
        }
        EnsureJobUser();
        TempRoot = Directory.CreateTempSubdirectory("boxbot-sandbox-tests-").FullName;
        Egress = new EgressEndpoint();
        Runner = new SandboxRunner(Options("jobs"), NullLogger.Instance);
        Runner.Validate();
        // Four at once: its RLIMIT_NPROC backstop (max_tasks × (concurrent + warm jobs)) counts only its own jobs,
        // and the warm runner's waiting jobs share the job user; with 2 × 64 two thread bombs at once would hit it.
        ColdRunner = new SandboxRunner(Options("cold-jobs") with { WarmJobs = 0, MaxConcurrentJobs = 4 }, NullLogger.Instance);
        ColdRunner.Validate();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        foreach (var (runner, jobs) in new[] { (Runner, "jobs"), (ColdRunner, "cold-jobs") })
        {
            if (runner is not null)
            {
                // The runner survived every attack above and still serves, and left nothing behind.
                var last = await Jobs.RunAsync("print('still serving')", runner);
                await runner.DisposeAsync();
                Assert.That(last.Stdout, Is.EqualTo("still serving\n"), Jobs.Describe(last));
                Assert.That(Directory.GetFileSystemEntries(Path.Combine(TempRoot, jobs)), Is.Empty, "job folders left behind");
            }
        }
        if (Runner is not null)
        {
            Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain(TempRoot), "workspace mounts left behind");
        }
        if (Egress is not null)
        {
            await Egress.DisposeAsync();
        }
        if (TempRoot is not null)
        {
            Directory.Delete(TempRoot, recursive: true);
        }
    }

    private static void EnsureJobUser()
    {
        if (UnixAccounts.LookupUser(JobUser) is not null)
        {
            return;
        }
        using var useradd = Process.Start("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", JobUser])!;
        useradd.WaitForExit();
        Assert.That(UnixAccounts.LookupUser(JobUser), Is.Not.Null, "useradd " + JobUser + " failed");
    }
}
