using System.Diagnostics;
using BoxBot.Linux;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// The runner as the installed unit runs it: as the job user, not root, with no capabilities, building every job in a
/// user namespace of its own (the test launcher's <c>run</c> command, under setpriv). The job must end up exactly as
/// confined as a root runner's: no capabilities anywhere, seccomp, no new privileges, the private root, its own
/// network, a tmpfs workspace that fills up, and no way back to uid 0.
/// </summary>
[Category("root")]
public sealed class UnprivilegedRunnerTests
{
    private string _home = "";

    [SetUp]
    public void SetUp()
    {
        _home = Directory.CreateTempSubdirectory("boxbot-unprivileged-").FullName;
        var user = UnixAccounts.LookupUser(SandboxFixture.JobUser)!.Value;
        LinuxFile.ChangeOwner(_home, user.Uid, user.Gid);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_home, recursive: true);

    /// <summary>Runs <paramref name="script"/> through an unprivileged runner; returns its status line, the job's stdout and stderr.</summary>
    internal static async Task<(string Status, string Stdout, string Stderr)> RunAsync(string home, string script, string network = "none", string? egress = null)
    {
        var info = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--reuid=" + SandboxFixture.JobUser, "--regid=" + SandboxFixture.JobUser, "--clear-groups", "--inh-caps=-all",
            SandboxFixture.TestLauncherPath, "run", home + "/jobs", SandboxFixture.SdkRuntimePath, network, .. egress is null ? Array.Empty<string>() : [egress]])
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        Assert.That(process.ExitCode, Is.Zero, output + stderr);
        var newline = output.IndexOf('\n', StringComparison.Ordinal);
        return (output[..newline], output[(newline + 1)..], stderr);
    }

    [Test]
    public async Task A_job_runs_as_the_runners_own_uid_with_no_capabilities_no_new_privileges_and_seccomp()
    {
        var user = UnixAccounts.LookupUser(SandboxFixture.JobUser)!.Value;
        const string script = """
            import os
            print(os.getuid(), os.getgid())
            status = dict(line.split(':\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\t' in line)
            for key in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'):
                print(key, status[key].strip())
            print(sorted(os.listdir('/')))
            try:
                os.setuid(0); print('ROOT')
            except OSError as e:
                print('setuid refused')
            """;
        var (status, stdout, stderr) = await RunAsync(_home, script);
        Assert.That(status, Is.EqualTo("ok - 0 cold"), stdout + stderr);
        Assert.That(stdout, Is.EqualTo($"""
            {user.Uid} {user.Gid}
            CapInh 0000000000000000
            CapPrm 0000000000000000
            CapEff 0000000000000000
            CapBnd 0000000000000000
            CapAmb 0000000000000000
            NoNewPrivs 1
            Seccomp 2
            ['bin', 'dev', 'etc', 'lib', 'lib64', 'opt', 'proc', 'usr', 'workspace']
            setuid refused

            """));
    }

    [Test]
    public async Task A_warm_job_started_by_an_unprivileged_runner_gets_its_script_and_runs()
    {
        var (status, stdout, stderr) = await RunAsync(_home, "import bb\nprint(open('/workspace/main.py').read().count('bb'))", "warm");
        Assert.That((status, stdout), Is.EqualTo(("ok - 0 warm", "2\n")), stderr);
    }

    [Test]
    public async Task A_job_that_forks_is_killed_by_seccomp_and_one_that_unshares_too()
    {
        Assert.That((await RunAsync(_home, "import os\nos.fork()")).Status, Is.EqualTo("killed seccomp - cold"));
        Assert.That((await RunAsync(_home, "import ctypes\nprint(ctypes.CDLL(None).unshare(0x10000000))")).Status, Is.EqualTo("killed seccomp - cold"));
    }

    [Test]
    public async Task The_workspace_is_a_tmpfs_of_the_configured_size_and_a_full_one_is_reported_as_disk()
    {
        const string script = """
            with open('/workspace/fill', 'wb') as f:
                while True:
                    f.write(b'x' * 65536)
            """;
        var (status, _, stderr) = await RunAsync(_home, script);
        Assert.That(status, Does.StartWith("killed disk").Or.StartWith("error disk"), stderr);
    }

    [Test]
    public async Task A_job_cannot_see_the_runners_files_or_reach_the_hosts_loopback()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var script = $"""
            import os, socket
            print(os.path.exists('{_home}'), os.path.exists('/etc/passwd'))
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(('127.0.0.1', {port})); print('CONNECTED')
            except OSError as e:
                print('unreachable')
            """;
        var (status, stdout, stderr) = await RunAsync(_home, script);
        Assert.That((status, stdout), Is.EqualTo(("ok - 0 cold", "False False\nunreachable\n")), stderr);
        Assert.That(listener.Pending(), Is.False);
    }

    [Test]
    public async Task An_internet_job_goes_out_only_through_the_egress_proxy_which_refuses_the_boxs_loopback()
    {
        await using var egress = new EgressEndpoint();
        const string script = """
            import urllib.error, urllib.request
            try:
                urllib.request.urlopen('http://127.0.0.1:9/', timeout=10); print('FETCHED')
            except urllib.error.HTTPError as e:
                print(e.code, e.read().decode().strip())
            """;
        var (status, stdout, stderr) = await RunAsync(_home, script, "internet", egress.SocketPath);
        Assert.That(status, Is.EqualTo("ok - 0 cold"), stderr);
        Assert.That(stdout, Does.StartWith("403 127.0.0.1"), stderr);
    }
}
