namespace BoxBot.Install.Tests;

/// <summary>
/// scripts/harden-os.sh's own container test (tests/harden/run.sh): a chroot, then a booted bookworm with a veth
/// "outside" from which it logs in with a key over IPv4 and IPv6, is refused a password and root, hits the SSH rate
/// limit, reaches no other port; dry runs, idempotency, a reboot and --revert. Each check prints `ok - NAME` or
/// `not ok - NAME`; this test fails on any `not ok` and shows them.
/// </summary>
[NonParallelizable]
public sealed class HardenOsTests
{
    [Test]
    public void Harden_os_passes_its_container_test()
    {
        var script = Path.Combine(InstallFixture.RepoRoot, "tests", "harden", "run.sh");
        var run = Container.Host(script, [], TimeSpan.FromMinutes(15),
            new Dictionary<string, string> { ["HARDEN_TEST_ROOT"] = InstallFixture.BaseRoot() });
        TestContext.Out.WriteLine(run.Stdout);

        var failed = run.Stdout.Split('\n').Where(l => l.StartsWith("not ok", StringComparison.Ordinal)).ToArray();
        Assert.That(failed, Is.Empty, run.Stderr);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Stdout.Split('\n').Count(l => l.StartsWith("ok - ", StringComparison.Ordinal)), Is.GreaterThan(50), "the checks ran");
    }
}
