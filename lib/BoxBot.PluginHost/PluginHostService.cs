using BoxBot.Hosting;
using BoxBot.Mesh;
using Microsoft.Extensions.Logging;

namespace BoxBot.PluginHost;

/// <summary>
/// Connects the box to the NATS mesh when <c>[plugin-host] mesh_url</c> is set. The mesh being
/// unreachable does not stop the daemon: it reports the state in <c>system.status</c> and keeps
/// retrying with backoff. The password comes only from the <c>mesh-password</c> credential
/// (the config loader refuses a <c>mesh_url</c> that carries one).
/// </summary>
public sealed class PluginHostService : IDaemonService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stop = new();
    private MeshClient? _mesh;
    private Task _connectLoop = Task.CompletedTask;
    private volatile string _meshState = "disabled";
    private string _meshUrl = "";
    private int _disposed;

    public Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        var settings = context.Config.PluginHost;
        if (settings.MeshUrl is not { } url)
        {
            return Task.CompletedTask;
        }
        var options = MeshOptions.For(url) with
        {
            User = settings.MeshUser.Length == 0 ? null : settings.MeshUser,
            Password = context.Credentials.TryGetSet("mesh-password"),
            Name = $"boxbot-plugin-host@{Environment.MachineName}",
        };
        _meshUrl = url.ToString();
        _meshState = "connecting";
        var log = context.Loggers.CreateLogger<PluginHostService>();
        _connectLoop = ConnectAsync(options, log, _stop.Token);
        return Task.CompletedTask;
    }

    private async Task ConnectAsync(MeshOptions options, ILogger log, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                _mesh = await MeshClient.ConnectAsync(options, log, cancellationToken);
                _meshState = "connected";
                log.LogInformation("mesh connected to {Url}", _meshUrl);
                return;
            }
            catch (MeshException e)
            {
                _meshState = "down: " + e.Message;
                log.LogWarning("mesh unreachable ({Reason}); retrying in {Seconds} s", e.Message, delay.TotalSeconds);
            }
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = delay * 2 > MaxBackoff ? MaxBackoff : delay * 2;
        }
    }

    public async Task StopAcceptingAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _connectLoop.WaitAsync(cancellationToken);
    }

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details)
    {
        var mesh = _mesh;
        details["mesh"] = mesh is not null && !mesh.IsConnected ? "reconnecting" : _meshState;
        if (_meshUrl.Length > 0)
        {
            details["mesh_url"] = _meshUrl;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync();
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }
        _stop.Dispose();
    }
}
