using System.Threading.Channels;
using BoxBot.Mesh.Broker;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Mesh.Tests;

/// <summary>
/// A household broker as boxbot sets it up (keys, accounts, nats.conf written by <see cref="BrokerAuthority"/>), run by
/// a real nats-server, with helpers to connect as the users it issues.
/// </summary>
internal sealed class Household : IAsyncDisposable
{
    public const string Tenant = "home";
    public const string BoxId = "kitchen";

    private readonly string _folder;

    private Household(string folder, BrokerPaths paths, BrokerAuthority authority, NatsServerProcess server, BrokerListen listen)
    {
        _folder = folder;
        Paths = paths;
        Authority = authority;
        Server = server;
        Listen = listen;
    }

    public BrokerPaths Paths { get; }

    public BrokerAuthority Authority { get; }

    public NatsServerProcess Server { get; private set; }

    public BrokerListen Listen { get; }

    public static MeshIdentity Mesh { get; } = new(Tenant, BoxId);

    public Uri Url => BrokerAuthority.ReadClientUrl(Paths);

    public static async Task<Household> StartAsync(bool lan = false)
    {
        var folder = Directory.CreateTempSubdirectory("boxbot-household-").FullName;
        var paths = new BrokerPaths(Path.Combine(folder, "state"), Path.Combine(folder, "config"), Path.Combine(folder, "nats.pid"));
        var listen = new BrokerListen(NatsServerProcess.FreeLoopbackPort(), lan, ["kitchen.local"]);
        BrokerAuthority.Initialize(paths, Mesh, listen, TimeProvider.System);
        NatsServerProcess? server = null;
        var authority = BrokerAuthority.Open(paths, Mesh, TimeProvider.System, () => server!.Reload());
        server = await NatsServerProcess.StartWithConfigAsync(paths.Config, listen.Port);
        return new Household(folder, paths, authority, server, listen);
    }

    /// <summary>Stops the broker and starts it again with its configuration as it is now.</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await NatsServerProcess.StartWithConfigAsync(Paths.Config, Listen.Port);
    }

    public MeshOptions OptionsFor(IssuedUser user, Uri? url = null) => MeshOptions.For(url ?? Url) with
    {
        Jwt = user.Jwt,
        Seed = user.Seed,
        InboxPrefix = user.User.LegacyInbox ? MeshGrants.LegacyInbox : MeshGrants.InboxPrefix(user.User.Name),
        CaPem = Listen.Lan ? Authority.CaPem : null,
        Name = user.User.Name,
    };

    public async Task<Connected> ConnectAsync(IssuedUser user)
    {
        var client = await MeshClient.ConnectAsync(OptionsFor(user), NullLogger.Instance);
        return new Connected(client);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Authority.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A connected client and the broker's refusals of what it did.</summary>
    internal sealed class Connected : IAsyncDisposable
    {
        private readonly Channel<string> _refusals = Channel.CreateUnbounded<string>();

        public Connected(MeshClient client)
        {
            Client = client;
            client.PermissionDenied += text => _refusals.Writer.TryWrite(text);
        }

        public MeshClient Client { get; }

        /// <summary>The next refusal whose text names <paramref name="subject"/>, or null after <paramref name="wait"/>.</summary>
        public async Task<string?> RefusalAsync(string subject, TimeSpan? wait = null)
        {
            using var timeout = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(5));
            try
            {
                while (true)
                {
                    var text = await _refusals.Reader.ReadAsync(timeout.Token);
                    if (text.Contains($"\"{subject}\"", StringComparison.Ordinal))
                    {
                        return text;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }
}
