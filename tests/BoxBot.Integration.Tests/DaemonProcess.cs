using System.Diagnostics;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Integration.Tests;

/// <summary>One real daemon executable under a throwaway BOXBOT_HOME.</summary>
internal sealed class DaemonProcess(DaemonInfo daemon, string home, IEnumerable<string>? args, IDictionary<string, string>? env)
    : ObservedProcess(TestEnv.Exe(daemon.Executable), args ?? [], WithHome(home, env))
{
    public DaemonInfo Daemon { get; } = daemon;
    public string SocketPath => Path.Combine(home, "run", Daemon.SocketName);

    public static DaemonProcess Start(DaemonInfo daemon, string home, IEnumerable<string>? args = null, IDictionary<string, string>? env = null) =>
        new(daemon, home, args, env);

    /// <summary>Polls system.status until the daemon answers; fails the test with its log if it exits or never answers.</summary>
    public async Task<SystemStatus> WaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
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

    private static Dictionary<string, string> WithHome(string home, IDictionary<string, string>? env) =>
        new(env ?? new Dictionary<string, string>()) { ["BOXBOT_HOME"] = home };
}
