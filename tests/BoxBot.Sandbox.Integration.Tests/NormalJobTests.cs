namespace BoxBot.Sandbox.Integration.Tests;

[Category("root")]
public sealed class NormalJobTests(string start) : WarmAndCold(start)
{
    [Test]
    public async Task A_script_using_threads_files_json_math_and_a_secret_runs_and_prints_its_result()
    {
        const string script = """
            import json, math, os, threading
            results = []
            def work(n):
                results.append(math.factorial(n) % 1000003)
            threads = [threading.Thread(target=work, args=(n,)) for n in range(10, 18)]
            for t in threads: t.start()
            for t in threads: t.join()
            with open("data.json", "w") as f:
                json.dump(sorted(results), f)
            with open(os.path.join(os.environ["HOME"], "data.json")) as f:
                back = json.load(f)
            print("threads", len(back), "sqrt2", round(math.sqrt(2), 6))
            print("secret", os.environ["BOXBOT_SECRET_API_TOKEN"][::-1])
            print("cwd", os.getcwd(), "uid0", os.getuid() == 0)
            print("env", sorted(k for k in os.environ if not k.startswith("LC_")))
            """;
        var r = await Jobs.RunAsync(script, secrets: new Dictionary<string, string> { ["API_TOKEN"] = "s3cret-value" });
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.Contain("threads 8 sqrt2 1.414214"));
        Assert.That(r.Stdout, Does.Contain("secret eulav-terc3s"));
        Assert.That(r.Stdout, Does.Contain("cwd /workspace uid0 False"));
        Assert.That(r.Stdout, Does.Contain("env ['BOXBOT_SECRET_API_TOKEN', 'BOXBOT_WORKSPACE', 'HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'TMPDIR']"));
        Assert.That(r.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task A_script_that_raises_ends_with_error_exit_1_and_its_traceback()
    {
        var r = await Jobs.RunAsync("print('partial')\nraise ValueError('bad input 42')");
        Assert.That((r.Status, r.ExitCode, r.KilledBy), Is.EqualTo(("error", (int?)1, (string?)null)), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("partial\n"));
        Assert.That(r.Stderr, Does.Contain("ValueError: bad input 42"));
    }

    [Test]
    public async Task Each_job_gets_a_fresh_empty_workspace()
    {
        var first = await Jobs.RunAsync("open('left-behind', 'w').write('x')\nimport os\nprint(sorted(os.listdir('.')))");
        var second = await Jobs.RunAsync("import os\nprint(sorted(os.listdir('.')))");
        Assert.That(first.Stdout, Is.EqualTo("['left-behind', 'main.py']\n"), Jobs.Describe(first));
        Assert.That(second.Stdout, Is.EqualTo("['main.py']\n"), Jobs.Describe(second));
    }

    [Test]
    public async Task A_job_imports_the_stdlib_and_bb_but_nothing_the_host_installed_for_its_own_python()
    {
        // Debian's python3-* packages (pip, apt, yaml, gpiozero on a Pi) live in dist-packages: not approved for jobs.
        const string script = """
            import sys, json, sqlite3, bb
            print([p for p in sys.path if p.endswith(("site-packages", "dist-packages"))], sys.path[0])
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("[] /opt/boxbot/runtime\n"));
    }

    [Test]
    public async Task An_asyncio_script_runs()
    {
        // asyncio's event loop wakes itself through a socketpair, which stays allowed.
        const string script = """
            import asyncio
            async def square(n):
                await asyncio.sleep(0.01)
                return n * n
            async def main():
                return sum(await asyncio.gather(*(square(n) for n in range(5))))
            print(asyncio.run(main()))
            """;
        var r = await Jobs.RunAsync(script);
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "30\n")), Jobs.Describe(r));
    }
}
