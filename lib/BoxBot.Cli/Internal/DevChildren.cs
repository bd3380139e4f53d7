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

    /// <summary>A child: one of the daemons, or the household broker (<see cref="Daemon"/> null).</summary>
    public sealed record Child(string Name, DaemonInfo? Daemon, Process Process);

    /// <summary>The household broker to start before the daemons: nats-server with its configuration, listening on <paramref name="Port"/>.</summary>
    public sealed record Broker(string Executable, string ConfigFile, int Port);

    /// <summary>Starts <paramref name="broker"/> (when given) and waits until it listens, then the daemons.</summary>
    public static DevChildren Start(string binDir, string home, string? configFile, PrefixedOutput output, Broker? broker = null)
    {
        var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource<List<Child>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var owner = new Thread(() =>
        {
            var children = new List<Child>();
            var starting = "nats-server";
            try
            {
                if (broker is not null)
                {
                    children.Add(new Child(BrokerName, null, StartBroker(broker, output)));
                }
                foreach (var daemon in Daemons.All)
                {
                    starting = daemon.Executable;
                    children.Add(new Child(daemon.Name, daemon, StartOne(daemon, binDir, home, configFile, output)));
                }
                started.SetResult(children);
            }
            catch (Exception e)
            {
                foreach (var child in children)
                {
                    child.Process.Kill();
                }
                started.SetException(new IOException($"cannot start {starting}: {e.Message}", e));
                return;
            }
            release.Wait();
        })
        { IsBackground = true, Name = "dev-up children" };
        owner.Start();
        return new DevChildren(started.Task.GetAwaiter().GetResult(), release);
    }

    /// <summary>The household broker's name in the prefixed log.</summary>
    public const string BrokerName = "nats";

    /// <summary>util-linux's setpriv, which every Debian has: it sets the parent-death signal, then runs the broker.</summary>
    private const string SetPriv = "/usr/bin/setpriv";

    private static Process StartBroker(Broker broker, PrefixedOutput output)
    {
        // nats-server cannot ask for a parent-death signal itself, as the daemons do: without one, a dev up killed with
        // SIGKILL would leave the broker running. setpriv asks for SIGINT (the broker's clean exit) and execs it.
        string[] command = [broker.Executable, "-c", broker.ConfigFile];
        if (File.Exists(SetPriv))
        {
            command = [SetPriv, "--pdeathsig", "INT", "--", .. command];
        }
        var info = new ProcessStartInfo(command[0], command[1..])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var name in Inherited)
        {
            info.Environment.Remove(name);
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => output.Line(BrokerName, e.Data);
        process.ErrorDataReceived += (_, e) => output.Line(BrokerName, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // The plugin host connects at its start: wait until the broker listens (it takes milliseconds).
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, broker.Port);
                return process;
            }
            catch (System.Net.Sockets.SocketException) when (waited.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                Thread.Sleep(20);
            }
            catch (System.Net.Sockets.SocketException)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
                throw new IOException($"nats-server did not listen on 127.0.0.1:{broker.Port} (see its log above)");
            }
        }
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

    /// <summary>
    /// SIGTERM to every daemon still running (SIGINT to nats-server, whose clean exit it is: on SIGTERM it exits 1), SIGKILL
    /// after the grace; returns the names that had to be killed.
    /// </summary>
    public async Task<IReadOnlyList<string>> StopAllAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return [];
        }
        foreach (var child in _children.Where(c => !c.Process.HasExited))
        {
            _ = LinuxProcess.Signal(child.Process.Id, child.Name == BrokerName ? LinuxProcess.SIGINT : LinuxProcess.SIGTERM);
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
                killed.Add(child.Name);
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
