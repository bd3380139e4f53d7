using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BoxBot.Linux;

namespace BoxBot.Bench.Webhook;

/// <summary>
/// The baseline: Debian's nginx answering an empty 200 on <c>/webhook</c> on loopback, as fast as an HTTP/1.1 server on
/// this machine answers a POST. Its own instance (own config and prefix in a temp folder, in the foreground as our
/// child), never the packaged service.
/// </summary>
internal sealed class NginxBaseline : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/nginx";

    private readonly string _errorLog;

    private NginxBaseline(Process process, int port, string errorLog)
    {
        Process = process;
        Url = $"http://127.0.0.1:{port}/webhook";
        _errorLog = errorLog;
    }

    public Process Process { get; }
    public string Url { get; }

    public static async Task<NginxBaseline> StartAsync(string prefix, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(prefix);
        var port = FreePort();
        var errorLog = Path.Combine(prefix, "error.log");
        var config = Path.Combine(prefix, "nginx.conf");
        // Same job as the webhook: parse the request, read (here: discard) the body, answer an empty 200 over keep-alive.
        File.WriteAllText(config, $$"""
            worker_processes auto;
            pid {{prefix}}/nginx.pid;
            error_log {{errorLog}} warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/client_body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                keepalive_requests 1000000;
                server {
                    listen 127.0.0.1:{{port}};
                    location = /webhook { return 200; }
                    location / { return 404; }
                }
            }

            """);

        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-p", prefix + "/", "-c", config, "-e", errorLog, "-g", "daemon off;" })
        {
            info.ArgumentList.Add(a);
        }
        var nginx = new NginxBaseline(Process.Start(info)!, port, errorLog);
        try
        {
            var waited = Stopwatch.StartNew();
            while (!await AcceptsAsync(port, cancellationToken))
            {
                if (nginx.Process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(10))
                {
                    var stderr = nginx.Process.HasExited ? await nginx.Process.StandardError.ReadToEndAsync(cancellationToken) : "still not listening after 10 s";
                    throw new BenchException($"nginx did not start on 127.0.0.1:{port}: {stderr}{nginx.ErrorLog()}");
                }
                await Task.Delay(50, cancellationToken);
            }
            return nginx;
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
        await ServerProcess.StopAsync(Process);
        Process.Dispose();
    }

    private string ErrorLog() => File.Exists(_errorLog) ? "\n" + File.ReadAllText(_errorLog) : "";

    /// <summary>A loopback port nothing listens on now (nginx cannot be told to pick one and report it).</summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
