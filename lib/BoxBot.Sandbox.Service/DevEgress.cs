using System.Net.Sockets;
using BoxBot.Sandbox.Egress;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// Development layout only (<c>boxbot dev up</c>, BOXBOT_HOME): there is no boxbot-egress unit, so the sandbox daemon
/// serves the egress proxy itself on the dev tree's egress.sock, with the product's policy (public addresses only).
/// An installed box never does this: its runner has no network, and the proxy is a unit of its own.
/// </summary>
internal sealed class DevEgress : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly string _path;

    private DevEgress(Socket listener, string path, ILogger logger)
    {
        _listener = listener;
        _path = path;
        _serving = new EgressProxy(EgressOptions.Default, logger).ServeAsync(listener, _stop.Token);
    }

    public static DevEgress? Start(string path, ILogger logger)
    {
        try
        {
            // The egress daemon's own listen: a socket a dev daemon before this one left is replaced, a live one refused.
            var (listener, _) = EgressMain.ListenAt(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            logger.LogInformation("development layout: serving the egress proxy on {Socket}", path);
            return new DevEgress(listener, path, logger);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            logger.LogError("development layout: cannot serve the egress proxy on {Socket}: {Message}; internet jobs get 502", path, e.Message);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopping.
        }
        File.Delete(_path);
        _stop.Dispose();
    }
}
