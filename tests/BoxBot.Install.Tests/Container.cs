using System.Diagnostics;
using System.Text;

namespace BoxBot.Install.Tests;

/// <summary>What a command in the container printed and how it ended.</summary>
public sealed record Run(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// A Debian bookworm root (debootstrap, minbase plus systemd) booted under systemd-nspawn, as the recipe
/// says: its init found as the child of the nspawn process, commands run in it with nsenter, stopped by its pid.
/// </summary>
public sealed class Container : IDisposable
{
    private Process? _nspawn;
    private readonly StringBuilder _console = new();

    public Container(string root) => Root = root;

    /// <summary>The container's root folder on the host.</summary>
    public string Root { get; }

    /// <summary>The pid (on the host) of the container's systemd.</summary>
    public int InitPid { get; private set; }

    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    /// <summary>Runs a host command; fails the test when it does not finish in time.</summary>
    public static Run Host(string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new Run(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A command in the root without booting it (package installs before the boot; the host's network).</summary>
    public Run Chroot(string script, TimeSpan timeout) =>
        Host("systemd-nspawn", ["-q", "--register=no", "--keep-unit", "-D", Root, "--pipe", "/bin/sh", "-c", script], timeout);

    /// <summary>Boots the root under its own systemd and waits until `systemctl is-system-running` says running.</summary>
    public void Boot(TimeSpan timeout)
    {
        // The unified cgroup hierarchy and bpf() let systemd in the container enforce IPAddressDeny= (BPF
        // programs on the unit's cgroup); a private network keeps the container's firewall off the host.
        var psi = new ProcessStartInfo("systemd-nspawn") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "-D", Root, "--boot", "--register=no", "--keep-unit", "--console=pipe", "-q", "--private-network",
                     "--system-call-filter=bpf", "--capability=CAP_BPF,CAP_NET_ADMIN" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1";
        _nspawn = Process.Start(psi)!;
        _nspawn.OutputDataReceived += (_, e) => Append(e.Data);
        _nspawn.ErrorDataReceived += (_, e) => Append(e.Data);
        _nspawn.BeginOutputReadLine();
        _nspawn.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + timeout;
        while (InitPid == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
            Assert.That(_nspawn.HasExited, Is.False, "systemd-nspawn ended:\n" + Console);
            var children = $"/proc/{_nspawn.Id}/task/{_nspawn.Id}/children";
            if (File.Exists(children) && File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var first, ..])
            {
                InitPid = int.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        Assert.That(InitPid, Is.Not.Zero, "no init in the container:\n" + Console);
        string state = "";
        while (DateTime.UtcNow < deadline)
        {
            var r = Exec("systemctl is-system-running", TimeSpan.FromSeconds(20));
            state = r.Stdout.Trim();
            if (state is "running" or "degraded")
            {
                break;
            }
            Thread.Sleep(500);
        }
        Assert.That(state, Is.EqualTo("running"), "the container's systemd:\n" + Exec("systemctl --failed --no-pager", TimeSpan.FromSeconds(20)).Output);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_console)
            {
                _console.AppendLine(line);
            }
        }
    }

    /// <summary>A shell command inside the booted container, in all of its namespaces.</summary>
    public Run Exec(string script, TimeSpan? timeout = null) =>
        Host("nsenter", ["-t", InitPid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", "/bin/sh", "-c", script], timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>Like <see cref="Exec"/>, asserting exit code 0.</summary>
    public string Ok(string script, TimeSpan? timeout = null)
    {
        var r = Exec(script, timeout);
        Assert.That(r.ExitCode, Is.Zero, $"`{script}` failed:\n{r}");
        return r.Stdout;
    }

    /// <summary>Stops the container by its pid: SIGTERM to nspawn (which halts the container), SIGKILL if it hangs.</summary>
    public void Dispose()
    {
        if (_nspawn is { HasExited: false } p)
        {
            Host("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
            if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        _nspawn?.Dispose();
    }
}
