using System.Net;
using System.Net.Sockets;
using BoxBot.Sandbox.Egress;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// A real egress proxy (<see cref="EgressProxy"/>) serving a Unix socket in a folder the job user can reach, as the
/// boxbot-egress unit serves /run/boxbot/egress.sock: with the product's policy (public addresses only), or with a
/// policy that lets loopback through, the only place an origin server can be here.
/// </summary>
public sealed class EgressEndpoint : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Socket _listener;
    private readonly Task _serving;
    private readonly string _dir;

    public EgressEndpoint(Func<IPAddress, bool>? isAllowed = null)
    {
        _dir = Directory.CreateTempSubdirectory("boxbot-egress-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        SocketPath = Path.Combine(_dir, "egress.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);
        _listener.Listen(64);
        var options = isAllowed is null ? EgressOptions.Default : EgressOptions.Default with { IsAllowed = isAllowed };
        _serving = new EgressProxy(options, NullLogger.Instance).ServeAsync(_listener, _stop.Token);
    }

    public string SocketPath { get; }

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
        }
        Directory.Delete(_dir, recursive: true);
    }
}
