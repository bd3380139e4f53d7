using System.Diagnostics;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Bench.Sandbox;

/// <summary>
/// The admin's path for a script, hop by hop, on a real development box (`boxbot dev up`, the published executables):
/// sandbox.run on the sandbox's own socket (the runner behind its daemon), the same on the agent's socket (one hop
/// more: the agent, its secrets look-up and its connection to the sandbox), and the `boxbot sandbox run` command (one
/// process more: the CLI's start, its arguments, the script file, its connection to the agent). The difference between
/// neighbours is what each hop costs.
/// </summary>
internal sealed class ScriptPath : IAsyncDisposable
{
    private readonly Process _dev;
    private readonly string _home;
    private readonly string _cli;
    private readonly string _script;

    private ScriptPath(Process dev, string home, string cli)
    {
        _dev = dev;
        _home = home;
        _cli = cli;
        _script = Path.Combine(home, "print1.py");
        File.WriteAllText(_script, "print(1)\n");
    }

    /// <summary>Starts a development box from the executables beside <paramref name="cli"/> in a fresh folder.</summary>
    public static async Task<ScriptPath> StartAsync(string cli, string home)
    {
        // Its own free port for the webhook, so a box already running here (on 8443) does not stop this one.
        Directory.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(home, "boxbot.toml"), "[webhook]\nport = 0\n");
        File.SetUnixFileMode(Path.Combine(home, "boxbot.toml"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var info = new ProcessStartInfo(cli, ["dev", "up"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["BOXBOT_HOME"] = home;
        var dev = Process.Start(info)!;
        var ready = new TaskCompletionSource();
        dev.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("daemons up", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        dev.ErrorDataReceived += (_, _) => { };
        dev.BeginOutputReadLine();
        dev.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(60))) != ready.Task)
        {
            dev.Kill(entireProcessTree: true);
            throw new InvalidOperationException("boxbot dev up did not come up within 60 s");
        }
        return new ScriptPath(dev, home, cli);
    }

    /// <summary>sandbox.run straight on sandbox.sock (as root, which its policy admits).</summary>
    public Task<double> SandboxSocketAsync() => CallAsync(Daemons.Sandbox, new SandboxJob { Script = "print(1)\n" }, SandboxJsonContext.Default.SandboxJob);

    /// <summary>sandbox.run on agent.sock, as the CLI sends it.</summary>
    public Task<double> AgentSocketAsync() => CallAsync(Daemons.Agent, new SandboxRunRequest { Script = "print(1)\n" }, SandboxJsonContext.Default.SandboxRunRequest);

    /// <summary>`boxbot sandbox run print1.py`, the whole command.</summary>
    public async Task<double> CliAsync()
    {
        var clock = Stopwatch.StartNew();
        var info = new ProcessStartInfo(_cli, ["sandbox", "run", _script]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["BOXBOT_HOME"] = _home;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 && await output == "1\n" ? clock.Elapsed.TotalMilliseconds
            : throw new InvalidOperationException($"boxbot sandbox run failed ({p.ExitCode}): {await errors}");
    }

    private async Task<double> CallAsync<T>(DaemonInfo daemon, T request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var clock = Stopwatch.StartNew();
        await using var client = await JsonRpcClient.ConnectAsync(Path.Combine(_home, "run", daemon.SocketName));
        var result = await client.CallAsync(SandboxMethods.Run, request, type, SandboxJsonContext.Default.SandboxRunResult, TimeSpan.FromMinutes(1));
        return result.Status == "ok" && result.Stdout == "1\n" ? clock.Elapsed.TotalMilliseconds
            : throw new InvalidOperationException($"sandbox.run on {daemon.SocketName}: {result.Status} {result.Error} {result.Stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_dev.HasExited)
        {
            _ = BoxBot.Linux.LinuxProcess.Signal(_dev.Id, BoxBot.Linux.LinuxProcess.SIGTERM);
            await _dev.WaitForExitAsync();
        }
        _dev.Dispose();
    }
}
