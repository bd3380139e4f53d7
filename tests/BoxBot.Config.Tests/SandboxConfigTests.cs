namespace BoxBot.Config.Tests;

public class SandboxConfigTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void Every_sandbox_limit_is_read_from_the_file()
    {
        var path = _dir.Write("boxbot.toml",
            "[sandbox]\njob_user = \"jobs\"\npython = \"/opt/py/bin/python3\"\nmax_concurrent_jobs = 4\nqueue_length = 0\nwarm_jobs = 3\n" +
            "timeout_s = 5\ncpu_s = 6\nmemory_mib = 128\nmax_tasks = 8\nmax_open_files = 32\nworkspace_mib = 16\noutput_kib = 8\n");

        var s = ConfigLoader.Load(path).Config.Sandbox;

        Assert.That(s, Is.EqualTo(new SandboxOptions("", "jobs", "/opt/py/bin/python3", 4, 0, 3,
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6), 128, 8, 32, 16, 8)));
    }

    [TestCase("job_user = \"root\"", "sandbox.job_user: must not be root")]
    [TestCase("job_user = \"Bad User\"", "sandbox.job_user: must be a Unix user name")]
    [TestCase("python = \"python3\"", "sandbox.python: must be an absolute path")]
    [TestCase("python = \"/usr/bin/../../tmp/python3\"", "sandbox.python: must be an absolute path")]
    [TestCase("max_open_files = 100", "sandbox.max_open_files: must be between 16 and 99")]
    [TestCase("max_concurrent_jobs = 0", "sandbox.max_concurrent_jobs: must be between 1 and 16")]
    [TestCase("warm_jobs = 17", "sandbox.warm_jobs: must be between 0 and 16")]
    [TestCase("memory_mib = 8", "sandbox.memory_mib: must be between 64 and 4096")]
    [TestCase("timeout_s = 0", "sandbox.timeout_s: must be between 1 and 3600")]
    public void Unsafe_or_out_of_range_sandbox_settings_are_refused_with_their_location(string line, string expected)
    {
        var path = _dir.Write("boxbot.toml", "[sandbox]\n" + line + "\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path))!;

        Assert.That(ex.Message, Does.StartWith($"{path}:2:").And.Contain(expected));
    }
}
