using System.Diagnostics;
using BoxBot.Sandbox.Sdk;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// Warm jobs (started and confined before their job exists, waiting for the go message): the job's own
/// secrets, limits and SDK host arrive with it, a warm job serves one job only, and one made before the
/// venv changed is not used after. The attack fixtures run on warm and cold jobs alike (<see cref="WarmAndCold"/>).
/// </summary>
[Category("root")]
public sealed class WarmJobTests
{
    private sealed class NamesOnlyHost : ISdkHost
    {
        public ValueTask StoreSecretAsync(string name, string value, CancellationToken ct) => ValueTask.CompletedTask;

        public ValueTask<IReadOnlyList<string>> ListSecretsAsync(CancellationToken ct) => ValueTask.FromResult<IReadOnlyList<string>>(["FROM_HOST"]);

        public ValueTask<bool> HasSecretAsync(string name, CancellationToken ct) => ValueTask.FromResult(name == "FROM_HOST");

        public ValueTask<bool> DeleteSecretAsync(string name, CancellationToken ct) => ValueTask.FromResult(false);
    }

    private static async Task WaitForWarm(SandboxRunner runner, int count)
    {
        var clock = Stopwatch.StartNew();
        while (runner.Warm < count)
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), $"only {runner.Warm} of {count} warm jobs after 20 s");
            await Task.Delay(20);
        }
        await Task.Delay(300); // let the interpreters reach their wait: the go must not merely overtake the start
    }

    [Test]
    public async Task A_warm_job_gets_its_own_secrets_memory_limit_and_sdk_host_with_its_job()
    {
        await using var runner = new SandboxRunner(SandboxFixture.Options("warm-go"), NullLogger.Instance);
        runner.Validate();
        await WaitForWarm(runner, 2);
        const string script = """
            import os, resource, bb
            print(sorted(k for k in os.environ if k.startswith("BOXBOT_SECRET_")), os.environ["BOXBOT_SECRET_TOKEN"])
            print(resource.getrlimit(resource.RLIMIT_AS)[1] >> 20, bb.secrets.list())
            print(os.read(0, 10))
            """;
        var r = await Jobs.RunAsync(script, runner, secrets: new Dictionary<string, string> { ["TOKEN"] = "t0ken" }, memory: 200L << 20, sdk: new NamesOnlyHost());
        Assert.That((r.Status, r.StartedWarm), Is.EqualTo(("ok", true)), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("['BOXBOT_SECRET_TOKEN'] t0ken\n200 ['FROM_HOST']\nb''\n"), "secrets, limit and host of this job; stdin at /dev/null");
    }

    [Test]
    public async Task A_warm_job_with_a_lower_memory_limit_is_held_to_it()
    {
        await using var runner = new SandboxRunner(SandboxFixture.Options("warm-memory"), NullLogger.Instance);
        runner.Validate();
        await WaitForWarm(runner, 1);
        // 120 MiB fits the configured 256 MiB the warm job started with, not the 64 MiB this job asks for.
        var r = await Jobs.RunAsync("b = bytearray(120 << 20)\nprint('allocated')", runner, memory: 64L << 20);
        Assert.That((r.Status, r.KilledBy, r.StartedWarm), Is.EqualTo(("killed", (string?)"memory", true)), Jobs.Describe(r));
    }

    [Test]
    public async Task A_job_without_an_sdk_host_in_a_warm_job_has_no_channel()
    {
        await using var runner = new SandboxRunner(SandboxFixture.Options("warm-nosdk"), NullLogger.Instance);
        runner.Validate();
        await WaitForWarm(runner, 1);
        const string script = """
            import os, bb
            print("BOXBOT_SDK_FD" in os.environ, sorted(os.listdir("/proc/self/fd")))
            try:
                bb.secrets.list()
            except bb.SdkError as e:
                print("refused", e.code)
            """;
        var r = await Jobs.RunAsync(script, runner);
        Assert.That((r.Status, r.StartedWarm), Is.EqualTo(("ok", true)), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.StartWith("False ['0', '1', '2', '3']\nrefused -32050"), "fd 3 is listdir's own");
    }

    [Test]
    public async Task Warm_jobs_serve_one_job_each_and_are_replaced()
    {
        await using var runner = new SandboxRunner(SandboxFixture.Options("warm-once"), NullLogger.Instance);
        runner.Validate();
        await WaitForWarm(runner, 2);
        var ids = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            var r = await Jobs.RunAsync("import os\nopen('mark', 'w').write('x')\nprint(sorted(os.listdir('.')))", runner);
            Assert.That(r.Stdout, Is.EqualTo("['main.py', 'mark']\n"), Jobs.Describe(r));
            Assert.That(ids.Add(r.JobId), Is.True, "a job id was used twice");
        }
        await WaitForWarm(runner, 2);
        Assert.That(Directory.GetDirectories(Path.Combine(SandboxFixture.TempRoot, "warm-once")), Has.Length.EqualTo(2), "only the two waiting jobs' folders");
    }

    [Test]
    public async Task A_warm_job_made_before_the_venv_appeared_is_not_used_after()
    {
        var venv = Path.Combine(SandboxFixture.TempRoot, "late-venv");
        await using var runner = new SandboxRunner(SandboxFixture.Options("warm-venv") with { VenvPath = venv }, NullLogger.Instance);
        runner.Validate();
        await WaitForWarm(runner, 2);
        using (var make = Process.Start("/usr/bin/python3", ["-m", "venv", "--without-pip", venv])!)
        {
            await make.WaitForExitAsync();
        }
        var site = Directory.GetDirectories(Path.Combine(venv, "lib")).Single() + "/site-packages";
        await File.WriteAllTextAsync(Path.Combine(site, "lateapproved.py"), "VALUE = 7\n");
        var r = await Jobs.RunAsync("import lateapproved\nprint(lateapproved.VALUE)", runner);
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "7\n")), Jobs.Describe(r));
    }
}
