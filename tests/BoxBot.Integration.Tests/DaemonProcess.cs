using System.Collections.Concurrent;
using System.Diagnostics;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Integration.Tests;

/// <summary>One real daemon executable under a throwaway BOXBOT_HOME, with its stderr captured line by line.</summary>
internal sealed class DaemonProcess : IDisposable
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;

    private readonly ConcurrentQueue<string> _lines = new();

    private DaemonProcess(DaemonInfo daemon, string home, Process process)
    {
        Daemon = daemon;
        Home = home;
        Process = process;
    }

    public DaemonInfo Daemon { get; }
    public string Home { get; }
    public Process Process { get; }
    public string SocketPath => Path.Combine(Home, "run", Daemon.SocketName);
    public IReadOnlyList<string> Lines => [.. _lines];
    public string Log => string.Join('\n', _lines);

    public static DaemonProcess Start(DaemonInfo daemon, string home, IEnumerable<string>? args = null, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(TestEnv.Exe(daemon.Executable))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in args ?? [])
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["BOXBOT_HOME"] = home;
        info.Environment.Remove("NOTIFY_SOCKET");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        var process = new Process { StartInfo = info };
        var d = new DaemonProcess(daemon, home, process);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { d._lines.Enqueue(e.Data); } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { d._lines.Enqueue(e.Data); } };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return d;
    }

    /// <summary>Polls system.status until the daemon answers; fails the test with its log if it exits or never answers.</summary>
    public async Task<SystemStatus> WaitReadyAsync(TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (within ?? TimeSpan.FromSeconds(20)))
        {
            if (Process.HasExited)
            {
                Assert.Fail($"{Daemon.Executable} exited with {Process.ExitCode} before answering:\n{Log}");
            }
            try
            {
                return await StatusAsync();
            }
            catch (IpcException)
            {
                await Task.Delay(50);
            }
        }
        Assert.Fail($"{Daemon.Executable} never answered system.status:\n{Log}");
        throw new UnreachableException();
    }

    public async Task<SystemStatus> StatusAsync()
    {
        await using var client = await JsonRpcClient.ConnectAsync(SocketPath);
        return await client.CallAsync(SystemMethods.Status, new EmptyParams(), ContractsJsonContext.Default.EmptyParams, ContractsJsonContext.Default.SystemStatus);
    }

    /// <summary>Waits for exit; the bound only keeps a broken daemon from hanging the suite.</summary>
    public int WaitExit(TimeSpan? within = null)
    {
        if (!Process.WaitForExit(within ?? TimeSpan.FromSeconds(15)))
        {
            Assert.Fail($"{Daemon.Executable} did not exit:\n{Log}");
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(true);
            Process.WaitForExit();
        }
        Process.Dispose();
    }
}
