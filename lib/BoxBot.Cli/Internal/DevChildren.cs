using System.Diagnostics;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Internal;

/// <summary>
/// The daemons started by <c>dev up</c>. They are started from one dedicated thread that lives
/// until they are all gone, because the daemons ask the kernel for SIGTERM when their parent
/// goes away (PR_SET_PDEATHSIG), and Linux ties that to the thread that forked them, not the
/// process: a thread-pool thread retiring would otherwise stop a daemon at random.
/// </summary>
internal sealed class DevChildren : IAsyncDisposable
{
    // Variables that belong to whoever started us (systemd, a shell under a unit) and must not reach dev daemons.
    private static readonly string[] Inherited = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"];

    private readonly List<Child> _children;
    private readonly ManualResetEventSlim _release;
    private int _stopped;

    private DevChildren(List<Child> children, ManualResetEventSlim release)
    {
        _children = children;
        _release = release;
    }

    public sealed record Child(DaemonInfo Daemon, Process Process);

    public static DevChildren Start(string binDir, string home, string? configFile, PrefixedOutput output)
    {
        var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource<List<Child>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var owner = new Thread(() =>
        {
            var children = new List<Child>();
            try
            {
                foreach (var daemon in Daemons.All)
                {
                    children.Add(new Child(daemon, StartOne(daemon, binDir, home, configFile, output)));
                }
                started.SetResult(children);
            }
            catch (Exception e)
            {
                foreach (var child in children)
                {
                    child.Process.Kill();
                }
                started.SetException(new IOException($"cannot start {Daemons.All[children.Count].Executable}: {e.Message}", e));
                return;
            }
            release.Wait();
        })
        { IsBackground = true, Name = "dev-up children" };
        owner.Start();
        return new DevChildren(started.Task.GetAwaiter().GetResult(), release);
    }

    private static Process StartOne(DaemonInfo daemon, string binDir, string home, string? configFile, PrefixedOutput output)
    {
        var info = new ProcessStartInfo(Path.Combine(binDir, daemon.Executable))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (configFile is not null)
        {
            info.ArgumentList.Add("--config");
            info.ArgumentList.Add(configFile);
        }
        foreach (var name in Inherited)
        {
            info.Environment.Remove(name);
        }
        foreach (var (name, value) in InstallLayout.RuntimeEnvironment(daemon))
        {
            info.Environment[name] = value;
        }
        info.Environment["BOXBOT_HOME"] = home;
        info.Environment["BOXBOT_DEV_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => output.Line(daemon.Name, e.Data);
        process.ErrorDataReceived += (_, e) => output.Line(daemon.Name, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public Child? FirstExited() => _children.FirstOrDefault(c => c.Process.HasExited);

    /// <summary>Waits until any daemon exits (returns it) or the token fires (throws).</summary>
    public async Task<Child?> WaitAnyExitAsync(CancellationToken cancellationToken)
    {
        var waits = _children.Select(async c =>
        {
            await c.Process.WaitForExitAsync(cancellationToken);
            return c;
        });
        return await await Task.WhenAny(waits);
    }

    /// <summary>SIGTERM to every daemon still running, SIGKILL after the grace; returns the names that had to be killed.</summary>
    public async Task<IReadOnlyList<string>> StopAllAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return [];
        }
        foreach (var child in _children.Where(c => !c.Process.HasExited))
        {
            _ = LinuxProcess.Signal(child.Process.Id, LinuxProcess.SIGTERM);
        }
        using var timeout = new CancellationTokenSource(grace);
        var killed = new List<string>();
        foreach (var child in _children)
        {
            try
            {
                await child.Process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _ = LinuxProcess.Signal(child.Process.Id, LinuxProcess.SIGKILL);
                killed.Add(child.Daemon.Name);
            }
        }
        foreach (var child in _children)
        {
            // Also drains the redirected output, so no log line is cut off.
            await child.Process.WaitForExitAsync(CancellationToken.None);
        }
        _release.Set();
        return killed;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync(TimeSpan.FromSeconds(7));
        foreach (var child in _children)
        {
            child.Process.Dispose();
        }
        _release.Dispose();
    }
}
