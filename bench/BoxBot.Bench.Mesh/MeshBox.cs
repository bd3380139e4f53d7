using System.Diagnostics;
using BoxBot.Mesh;
using BoxBot.Mesh.Credentials;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Bench.Mesh;

/// <summary>
/// A development box (`boxbot dev up` in a fresh folder, the published executables) with the household broker, an admin
/// user that calls and a device user that echoes, both made with the CLI as a person would make them.
/// </summary>
internal sealed class MeshBox : IAsyncDisposable
{
    public const string BoxId = "benchbox";
    private readonly Process _dev;
    private readonly string _home;
    private readonly string _cli;

    private MeshBox(Process dev, string home, string cli)
    {
        _dev = dev;
        _home = home;
        _cli = cli;
    }

    public static async Task<MeshBox> StartAsync(string cli, string home)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(home, Private);
        var config = Path.Combine(home, "boxbot.toml");
        // The per-caller limit (120 a minute by default) would refuse a benchmark's caller: raised to the maxima.
        File.WriteAllText(config, $"[webhook]\nport = 0\n[sandbox]\nwarm_jobs = 0\n[mesh]\nbox_id = \"{BoxId}\"\ncalls_per_caller_per_minute = 60000\ncalls_per_minute = 600000\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var info = new ProcessStartInfo(cli, ["dev", "up"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["BOXBOT_HOME"] = home;
        var dev = Process.Start(info)!;
        dev.OutputDataReceived += (_, _) => { };
        dev.ErrorDataReceived += (_, _) => { };
        dev.BeginOutputReadLine();
        dev.BeginErrorReadLine();
        var box = new MeshBox(dev, home, cli);
        var deadline = Stopwatch.StartNew();
        while ((await box.BoxbotAsync("mesh", "status")).Code != 0)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60) || dev.HasExited)
            {
                await box.DisposeAsync();
                throw new InvalidOperationException("the development box did not come onto its mesh within 60 s");
            }
            await Task.Delay(200);
        }
        return box;
    }

    /// <summary>An admin user "bench" (the caller) and a device user "echo" (the baseline's responder), each connected.</summary>
    public async Task<Calls> ConnectAsync()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_home, "creds"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        foreach (var add in new[] { new[] { "mesh", "admin", "add", "bench", "--out", dir }, ["mesh", "device", "add", "echo", "--out", dir] })
        {
            var (code, error) = await BoxbotAsync(add);
            if (code != 0)
            {
                throw new InvalidOperationException($"boxbot {string.Join(' ', add)}: {error}");
            }
        }
        var (caller, url) = await ConnectAsync(dir, "bench");
        var (echo, _) = await ConnectAsync(dir, "echo");
        return await Calls.StartAsync(caller, echo, url);
    }

    private static async Task<(MeshClient Client, Uri Url)> ConnectAsync(string dir, string name)
    {
        var portal = PortalCredentials.Parse(await File.ReadAllTextAsync(Path.Combine(dir, name + ".creds.json")), name, dir);
        return (await MeshClient.ConnectAsync(MeshOptions.For(portal.Urls[0]) with
        {
            Jwt = portal.Jwt,
            Seed = portal.Seed,
            InboxPrefix = BoxBot.Mesh.Broker.MeshGrants.InboxPrefix(name),
            Name = name,
        }, NullLogger.Instance), portal.Urls[0]);
    }

    /// <summary>`boxbot mesh invoke BOX get_status`, the whole command; its time in ms.</summary>
    public async Task<double> InvokeAsync()
    {
        var clock = Stopwatch.StartNew();
        var (code, error) = await BoxbotAsync("mesh", "invoke", BoxId, "get_status");
        return code == 0 ? clock.Elapsed.TotalMilliseconds : throw new InvalidOperationException("boxbot mesh invoke: " + error);
    }

    /// <summary>Writes the reference's hello-world plugin into the box's folder and installs it with the CLI.</summary>
    public async Task InstallHelloWorldAsync()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home, "hello-world")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"),
            """{"id": "hello-world", "version": "0.1.0", "entry_point": "capability.py", "class_name": "HelloWorldCapability"}""");
        await File.WriteAllTextAsync(Path.Combine(folder, "capability.py"), """
            from device_connect_edge.drivers.decorators import rpc


            class HelloWorldCapability:
                def __init__(self, device=None) -> None:
                    self.device = device

                @rpc()
                async def hello_world(self, name: str = "world") -> dict:
                    return {"message": f"Hello, {name}!"}
            """);
        var (code, error) = await BoxbotAsync("plugins", "install", folder);
        if (code != 0)
        {
            throw new InvalidOperationException("boxbot plugins install: " + error);
        }
    }

    /// <summary>`boxbot plugins VERB ID`, the whole command; its time in ms.</summary>
    public async Task<double> PluginsAsync(string verb, string id)
    {
        var clock = Stopwatch.StartNew();
        var (code, error) = await BoxbotAsync("plugins", verb, id);
        return code == 0 ? clock.Elapsed.TotalMilliseconds : throw new InvalidOperationException($"boxbot plugins {verb}: " + error);
    }

    private async Task<(int Code, string Error)> BoxbotAsync(params string[] args)
    {
        var info = new ProcessStartInfo(_cli, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["BOXBOT_HOME"] = _home;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await output;
        return (p.ExitCode, await errors);
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

/// <summary>The caller's two round trips: the box's get_status, and the same payload echoed by a device user.</summary>
internal sealed class Calls : IAsyncDisposable
{
    private static readonly byte[] Request = """{"jsonrpc": "2.0", "id": "bench-1", "method": "get_status", "params": {}}"""u8.ToArray();
    private readonly MeshClient _caller;
    private readonly MeshClient _echo;
    private readonly MeshSubscription _subscription;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private Calls(MeshClient caller, MeshClient echo, MeshSubscription subscription, Uri url)
    {
        Url = url;
        _caller = caller;
        _echo = echo;
        _subscription = subscription;
        _serving = Task.Run(async () =>
        {
            try
            {
                await foreach (var message in subscription.ReadAllAsync(_stop.Token))
                {
                    await message.ReplyAsync(message.Data, _stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public Uri Url { get; }

    public static async Task<Calls> StartAsync(MeshClient caller, MeshClient echo, Uri url)
    {
        var subscription = await echo.SubscribeLiveAsync(MeshSubjects.Cmd("default", "echo"));
        await echo.PingAsync();
        return new Calls(caller, echo, subscription, url);
    }

    public Task<double> BoxAsync() => TimeAsync(MeshSubjects.Cmd("default", MeshBox.BoxId));

    public Task<double> EchoAsync() => TimeAsync(MeshSubjects.Cmd("default", "echo"));

    /// <summary>The hello-world plugin's function on the box: the plugin host, the sandbox runner and the plugin's process.</summary>
    public Task<double> PluginAsync() => TimeAsync(MeshSubjects.Cmd("default", MeshBox.BoxId), PluginRequest);

    private static readonly byte[] PluginRequest = """{"jsonrpc": "2.0", "id": "bench-2", "method": "hello_world", "params": {"name": "bench"}}"""u8.ToArray();

    private async Task<double> TimeAsync(string subject, byte[]? request = null)
    {
        var clock = Stopwatch.StartNew();
        var reply = await _caller.RequestAsync(subject, request ?? Request, TimeSpan.FromSeconds(5));
        var elapsed = clock.Elapsed.TotalMilliseconds;
        return reply.Span.IndexOf("\"error\""u8) < 0 ? elapsed : throw new InvalidOperationException($"{subject}: {System.Text.Encoding.UTF8.GetString(reply.Span)}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _subscription.DisposeAsync();
        try
        {
            await _serving;
        }
        catch (OperationCanceledException)
        {
        }
        await _echo.DisposeAsync();
        await _caller.DisposeAsync();
        _stop.Dispose();
    }
}
