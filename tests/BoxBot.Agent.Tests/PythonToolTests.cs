using System.Runtime.InteropServices;
using BoxBot.Agent.Internal;

namespace BoxBot.Agent.Tests;

/// <summary>
/// The child that runs pip and venv, with the real /usr/bin/python3: under systemd the agent's umask is 077, yet what
/// the child writes must be readable by the sandbox user; and the child sees none of the agent's environment.
/// </summary>
[NonParallelizable]
public partial class PythonToolTests
{
    private TempFolder _dir = null!;

    [SetUp]
    public void SetUp()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("needs Debian's python3 (scripts/install-prereqs.sh installs it)");
        }
        _dir = new TempFolder();
    }

    [TearDown]
    public void TearDown() => _dir?.Dispose();

    [Test]
    public async Task A_venv_made_while_the_agents_umask_is_077_is_still_readable_by_others()
    {
        var venv = _dir.File("venv");
        var tool = new PythonTool("/usr/bin/python3", TimeSpan.FromSeconds(60));
        var saved = umask(0b000_111_111);
        ToolResult r;
        try
        {
            r = await tool.RunModuleAsync("venv", ["--without-pip", venv], _dir.Path, CancellationToken.None);
        }
        finally
        {
            umask(saved);
        }

        Assert.That(r.ExitCode, Is.EqualTo(0), r.ErrorSummary());
        Assert.That(File.GetUnixFileMode(venv), Is.EqualTo((UnixFileMode)0b111_101_101));
        Assert.That(File.GetUnixFileMode(Path.Combine(venv, "pyvenv.cfg")), Is.EqualTo((UnixFileMode)0b110_100_100));
    }

    [Test]
    public async Task The_child_gets_an_environment_rebuilt_from_nothing()
    {
        Environment.SetEnvironmentVariable("PIP_INDEX_URL", "http://evil.example/simple");
        Environment.SetEnvironmentVariable("PYTHONPATH", "/tmp/evil");
        try
        {
            var tool = new PythonTool("/usr/bin/python3", TimeSpan.FromSeconds(60));
            var probe = _dir.File("probe.py");
            await File.WriteAllTextAsync(probe, "import json, os\nprint(json.dumps(dict(os.environ)))\n");

            // cProfile runs a script file (its stats go to /dev/null): the child's view of its environment.
            var r = await tool.RunModuleAsync("cProfile", ["-o", "/dev/null", probe], _dir.Path, CancellationToken.None);

            Assert.That(r.ExitCode, Is.EqualTo(0), r.ErrorSummary());
            Assert.That(r.Stdout, Does.Not.Contain("evil"));
            Assert.That(r.Stdout, Does.Contain("\"PIP_CONFIG_FILE\": \"/dev/null\"").And.Contain("\"HOME\": " + System.Text.Json.JsonSerializer.Serialize(_dir.Path)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PIP_INDEX_URL", null);
            Environment.SetEnvironmentVariable("PYTHONPATH", null);
        }
    }

    [Test]
    public async Task A_child_that_runs_past_its_time_limit_is_stopped_and_says_so()
    {
        var tool = new PythonTool("/usr/bin/python3", TimeSpan.FromSeconds(1));
        var sleeper = _dir.File("sleep.py");
        File.WriteAllText(sleeper, "import time\ntime.sleep(60)\n");

        var e = await Assert.ThrowsAsync<PackageException>(() => tool.RunModuleAsync("cProfile", ["-o", "/dev/null", sleeper], _dir.Path, CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("cProfile did not finish within 1 s"));
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);
}
