using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BoxBot.Sandbox.Egress;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Tests;

/// <summary>
/// The egress proxy serving a real Unix socket in a temp folder, as the runner's relay reaches it, with clients
/// that speak raw HTTP over that socket. Every read has a deadline, so a control that fails open shows as a
/// failure rather than a hung test.
/// </summary>
internal sealed class EgressHarness : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private readonly Socket _listener;
    private readonly Task _serving;
    private readonly DirectoryInfo _dir;

    public EgressHarness(EgressOptions options)
    {
        _dir = Directory.CreateTempSubdirectory("boxbot-egress-");
        SocketPath = Path.Combine(_dir.FullName, "egress.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(128);
        Proxy = new EgressProxy(options, Log);
        _serving = Proxy.ServeAsync(_listener, _stop.Token);
    }

    public string SocketPath { get; }
    public EgressProxy Proxy { get; }
    public ListLogger Log { get; } = new();

    public async Task<Socket> ConnectAsync()
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        return client;
    }

    /// <summary>Sends <paramref name="request"/> and reads until the proxy closes.</summary>
    public async Task<string> ExchangeAsync(string request)
    {
        using var client = await ConnectAsync();
        await Wire.SendAsync(client, request);
        return await Wire.ReadToEndAsync(client);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Assert.That(await Task.WhenAny(_serving, Task.Delay(Patience)), Is.SameAs(_serving), "ServeAsync did not return after cancellation");
        await _serving;
        _listener.Dispose();
        _dir.Delete(recursive: true);
        _stop.Dispose();
    }
}

/// <summary>A loopback TCP server standing in for a site on the internet; it counts who reached it.</summary>
internal sealed class LoopbackOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<Socket, Task> _serve;
    private readonly ConcurrentQueue<Task> _connections = new();
    private readonly Task _accepting;
    private int _accepted;

    public LoopbackOrigin(Func<Socket, Task> serve, IPAddress? address = null, int port = 0)
    {
        _serve = serve;
        _listener = new TcpListener(address ?? IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Connections accepted, and any still waiting in the backlog.</summary>
    public int Connections => Volatile.Read(ref _accepted) + (_listener.Pending() ? 1 : 0);

    /// <summary>An origin that echoes what it reads until end of stream, then closes.</summary>
    public static LoopbackOrigin Echo(IPAddress? address = null, int port = 0) => new(async socket =>
    {
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0)
        {
            await socket.SendAsync(buffer.AsMemory(0, n));
        }
    }, address, port);

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            _connections.Enqueue(Task.Run(async () =>
            {
                using (socket)
                {
                    try
                    {
                        await _serve(socket);
                    }
                    catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                    {
                    }
                }
            }));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
        await Task.WhenAny(Task.WhenAll(_connections), Task.Delay(EgressHarness.Patience));
    }
}

/// <summary>Raw HTTP over a socket, with deadlines.</summary>
internal static class Wire
{
    public static Task SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.Latin1.GetBytes(text));

    public static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(EgressHarness.Patience);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no end of stream within {EgressHarness.Patience.TotalSeconds} s; got so far: {text}");
        }
        return text.ToString();
    }

    /// <summary>Reads until <paramref name="end"/> has arrived (a response head, an echo).</summary>
    public static async Task<string> ReadUntilAsync(Socket socket, string end)
    {
        using var deadline = new CancellationTokenSource(EgressHarness.Patience);
        var text = new StringBuilder();
        var buffer = new byte[1];
        try
        {
            while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) == 0)
                {
                    Assert.Fail($"end of stream before '{end}'; got: {text}");
                }
                text.Append((char)buffer[0]);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"'{end}' did not arrive within {EgressHarness.Patience.TotalSeconds} s; got so far: {text}");
        }
        return text.ToString();
    }

    public static int Status(string response) =>
        response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && response.Length >= 12 ? int.Parse(response[9..12], System.Globalization.CultureInfo.InvariantCulture) : 0;

    public static string Body(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
}

/// <summary>Keeps every log entry, so tests can check what a refusal logged (and what it did not).</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
