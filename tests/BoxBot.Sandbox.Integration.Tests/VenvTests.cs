using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// The venv of approved packages: a job can import what is installed there and cannot change it,
/// and a runner without one (or before the first install) runs jobs on the stdlib and bb alone.
/// </summary>
[Category("root")]
public sealed class VenvTests
{
    private string _venv = null!;

    [OneTimeSetUp]
    public void MakeVenv()
    {
        _venv = Path.Combine(SandboxFixture.TempRoot, "venv");
        // The layout the agent makes: python3 -m venv --without-pip, packages installed into its site-packages.
        using (var venv = Process.Start("/usr/bin/python3", ["-m", "venv", "--without-pip", _venv])!)
        {
            venv.WaitForExit();
            Assert.That(venv.ExitCode, Is.Zero, "python3 -m venv --without-pip");
        }
        var site = Directory.GetDirectories(Path.Combine(_venv, "lib")).Single() + "/site-packages";
        Directory.CreateDirectory(Path.Combine(site, "approvedpkg"));
        File.WriteAllText(Path.Combine(site, "approvedpkg", "__init__.py"), "def answer():\n    return 42\n");
        // World-writable on purpose: only the read-only bind may stop the job below, not the modes.
        File.SetUnixFileMode(Path.Combine(site, "approvedpkg"), (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(Path.Combine(site, "approvedpkg", "__init__.py"), (UnixFileMode)0b110_110_110);
    }

    private SandboxRunner NewRunner(string name, string? venv) =>
        new(SandboxFixture.Options(name) with { VenvPath = venv }, NullLogger.Instance);

    [Test]
    public async Task A_job_imports_a_package_from_the_venv()
    {
        await using var runner = NewRunner("venv-import", _venv);
        var r = await Jobs.RunAsync("import approvedpkg, os\nprint(approvedpkg.answer(), approvedpkg.__file__.startswith('/opt/boxbot/venv/'), os.environ['BOXBOT_VENV'])", runner);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("42 True /opt/boxbot/venv\n"));
    }

    [Test]
    public async Task A_job_cannot_change_the_venv()
    {
        await using var runner = NewRunner("venv-write", _venv);
        const string script = """
            import errno, os, approvedpkg
            pkg = os.path.dirname(approvedpkg.__file__)
            outcomes = []
            for attempt in (lambda: open(os.path.join(pkg, "__init__.py"), "a"),
                            lambda: open(os.path.join(pkg, "evil.py"), "w"),
                            lambda: os.rename(pkg, pkg + "2"),
                            lambda: os.chmod(pkg, 0o777)):
                try:
                    attempt()
                    outcomes.append("done")
                except OSError as e:
                    outcomes.append(errno.errorcode[e.errno])
            print(outcomes)
            """;
        var r = await Jobs.RunAsync(script, runner);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("['EROFS', 'EROFS', 'EROFS', 'EROFS']\n"));
        var site = Directory.GetDirectories(Path.Combine(_venv, "lib")).Single() + "/site-packages/approvedpkg";
        Assert.That(Directory.GetFiles(site).Select(Path.GetFileName), Is.EquivalentTo(new[] { "__init__.py" }));
    }

    [Test]
    public async Task Without_a_venv_jobs_run_on_the_stdlib_and_cannot_import_the_package()
    {
        await using var runner = NewRunner("venv-missing", Path.Combine(SandboxFixture.TempRoot, "no-venv-yet"));
        var r = await Jobs.RunAsync("import os, json\nprint('BOXBOT_VENV' in os.environ)\nimport approvedpkg", runner);
        Assert.That(r.Status, Is.EqualTo("error"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("False\n"));
        Assert.That(r.Stderr, Does.Contain("ModuleNotFoundError: No module named 'approvedpkg'"));
    }
}
