using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

/// <summary>A real server on a real socket in a fresh temp directory per test.</summary>
public abstract class ServerTestBase
{
    protected static readonly CallerPolicy Anyone = CallerPolicy.Of(Principal.Self, Principal.Root);

    protected DirectoryInfo TempDir { get; private set; } = null!;

    protected string SocketPath => Path.Combine(TempDir.FullName, "t.sock");

    protected CapturingLogger Logger { get; private set; } = null!;

    protected JsonRpcServer Server { get; private set; } = null!;

    private readonly List<IAsyncDisposable> _cleanup = [];

    [SetUp]
    public void CreateTempDir()
    {
        TempDir = Directory.CreateTempSubdirectory("bbipc-");
        Logger = new CapturingLogger();
    }

    [TearDown]
    public async Task CleanUp()
    {
        foreach (var d in _cleanup)
        {
            await d.DisposeAsync();
        }
        _cleanup.Clear();
        TempDir.Delete(recursive: true);
    }

    protected JsonRpcServer CreateServer(Func<IpcServerOptions, IpcServerOptions>? configure = null)
    {
        var options = new IpcServerOptions { SocketPath = SocketPath };
        Server = new JsonRpcServer(configure?.Invoke(options) ?? options, Logger);
        _cleanup.Add(Server);
        return Server;
    }

    /// <summary>A started server with the usual test methods mapped.</summary>
    protected JsonRpcServer StartServer(Func<IpcServerOptions, IpcServerOptions>? configure = null, Action<JsonRpcServer>? map = null)
    {
        var server = CreateServer(configure);
        server.Map("echo", Anyone, TestJson.Default.TextParams, TestJson.Default.TextResult,
            (p, _, _) => ValueTask.FromResult(new TextResult(p.Text)));
        server.Map("add", Anyone, TestJson.Default.AddParams, TestJson.Default.SumResult,
            (p, _, _) => ValueTask.FromResult(new SumResult(p.A + p.B)));
        server.Map("length", Anyone, TestJson.Default.TextParams, TestJson.Default.LengthResult,
            (p, _, _) => ValueTask.FromResult(new LengthResult(p.Text.Length)));
        server.Map("whoami", Anyone, ContractsJsonContext.Default.EmptyParams, TestJson.Default.PeerResult,
            (_, ctx, _) => ValueTask.FromResult(new PeerResult(ctx.Peer.Pid, ctx.Peer.Uid, ctx.Peer.Gid, [.. ctx.Peer.Groups])));
        map?.Invoke(server);
        server.Start();
        return server;
    }

    protected async Task<JsonRpcClient> ConnectAsync()
    {
        var client = await JsonRpcClient.ConnectAsync(SocketPath);
        _cleanup.Insert(0, client);
        return client;
    }

    protected async Task<RawConnection> ConnectRawAsync()
    {
        var raw = await RawConnection.ConnectAsync(SocketPath);
        _cleanup.Insert(0, new DisposeAdapter(raw));
        return raw;
    }

    protected static Task<SumResult> AddAsync(JsonRpcClient client, int a, int b) =>
        client.CallAsync("add", new AddParams(a, b), TestJson.Default.AddParams, TestJson.Default.SumResult);

    private sealed class DisposeAdapter(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
