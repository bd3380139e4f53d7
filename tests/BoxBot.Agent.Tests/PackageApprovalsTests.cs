using BoxBot.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests;

/// <summary>The install is gated on its audit line: no line on disk, no install.</summary>
public class PackageApprovalsTests
{
    private TempFolder _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempFolder();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public async Task An_approval_whose_audit_line_cannot_be_written_installs_nothing_and_ends_failed()
    {
        var venv = _dir.File("venv");
        await using var packages = new PackageApprovals(new PackageOptions
        {
            // If the install went ahead, this interpreter would be needed; it does not exist, which would say so.
            Python = _dir.File("no-python-here"),
            Venv = venv,
            StateDir = _dir.Path,
        }, TimeProvider.System, NullLogger.Instance);
        var pending = packages.Store.Add("uid 1000", null, ["demo"], [Packages.Wheel("demo", "1.0")]);
        Directory.CreateDirectory(packages.AuditLogPath); // appending to it now fails

        var result = await packages.ApproveAsync(pending.Id, "uid 0");

        Assert.That(result.State, Is.EqualTo(ApprovalStates.Failed));
        Assert.That(result.Error, Does.StartWith("nothing was installed: the audit log"));
        Assert.That(Directory.Exists(venv), Is.False);
        Assert.That(packages.Store.Get(pending.Id).State, Is.EqualTo(ApprovalStates.Failed));
    }

    [Test]
    public async Task Every_decision_is_appended_to_the_audit_log_as_one_json_line()
    {
        await using var packages = new PackageApprovals(new PackageOptions { Python = "/usr/bin/python3", Venv = _dir.File("venv"), StateDir = _dir.Path },
            TimeProvider.System, NullLogger.Instance);
        var a = packages.Store.Add("uid 1000", "why", ["demo==1.0"], [Packages.Wheel("demo", "1.0")]);

        packages.Deny(a.Id, "uid 0");

        var lines = File.ReadAllLines(packages.AuditLogPath);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.Contain("\"event\":\"denied\"").And.Contain($"\"approval\":\"{a.Id}\"").And.Contain("\"decided_by\":\"uid 0\"")
            .And.Contain($"\"sha256\":\"{new string('a', 64)}\""));
        Assert.That(File.GetUnixFileMode(packages.AuditLogPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }
}
