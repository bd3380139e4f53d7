using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BoxBot.Mesh.Tests;

/// <summary>
/// A real nats-server on a free loopback port, configured by a generated file in its own temp folder.
/// Killed and cleaned up on dispose.
/// </summary>
internal sealed class NatsServerProcess : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

    private readonly Process _process;
    private readonly string? _folder;
    private readonly StringBuilder _output = new();

    private NatsServerProcess(Process process, string? folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"nats://127.0.0.1:{Port}");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts nats-server with <paramref name="authorization"/> as its config's authorization block.</summary>
    public static async Task<NatsServerProcess> StartAsync(string authorization)
    {
        var folder = Directory.CreateTempSubdirectory("boxbot-mesh-test-").FullName;
        var port = FreeLoopbackPort();
        var config = Path.Combine(folder, "nats.conf");
        await File.WriteAllTextAsync(config, $$"""
            listen: 127.0.0.1:{{port}}
            authorization {
            {{authorization}}
            }
            """);
        return await StartAsync(config, port, folder);
    }

    /// <summary>Starts nats-server with no authentication (for tests of the wire format, not of permissions).</summary>
    public static async Task<NatsServerProcess> StartOpenAsync()
    {
        var folder = Directory.CreateTempSubdirectory("boxbot-mesh-test-").FullName;
        var port = FreeLoopbackPort();
        var config = Path.Combine(folder, "nats.conf");
        await File.WriteAllTextAsync(config, $"listen: 127.0.0.1:{port}\n");
        return await StartAsync(config, port, folder);
    }

    /// <summary>Starts nats-server with the configuration file <paramref name="config"/> (listening on <paramref name="port"/>); the folder is the caller's.</summary>
    public static Task<NatsServerProcess> StartWithConfigAsync(string config, int port) => StartAsync(config, port, null);

    /// <summary>Asks the server to reread its configuration (SIGHUP), as the household broker's reload does.</summary>
    public void Reload() => BoxBot.Linux.LinuxProcess.Signal(_process.Id, BoxBot.Linux.LinuxProcess.SIGHUP);

    private static async Task<NatsServerProcess> StartAsync(string config, int port, string? folder)
    {
        var binary = FindBinary();
        var start = new ProcessStartInfo(binary, ["-c", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(config)!,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start");
        var server = new NatsServerProcess(process, folder, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await server.WaitUntilListeningAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
            if (_folder is not null)
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    private static string FindBinary()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "nats-server"));
        var found = onPath.Concat(Candidates).FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Fail("nats-server is not installed (looked on PATH and in /usr/sbin, /usr/bin, /usr/local/bin). "
                + "Run scripts/install-prereqs.sh (it installs the Debian package nats-server), then run the tests again.");
        }

        return found!;
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"nats-server exited with code {_process.ExitCode} before listening:\n{Output}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        Assert.Fail($"nats-server did not listen on 127.0.0.1:{Port} within 10 s:\n{Output}");
    }
}
