using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Webhook.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BoxBot.Webhook;

/// <summary>
/// The WhatsApp Cloud API webhook: Kestrel on a loopback address (the box's only inbound network listener), the
/// inbound spool, and the forwarder that hands spooled events to the agent. The daemon never sends anything to a
/// WhatsApp user: what to answer is the agent's decision.
/// </summary>
public sealed class WebhookService(TimeProvider? time = null) : IDaemonService
{
    public const string AppSecretCredential = "whatsapp-app-secret";
    public const string VerifyTokenCredential = "whatsapp-verify-token";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly WebhookCounters _counters = new();
    private WebApplication? _app;
    private ConnectionGovernor? _governor;
    private Spool? _spool;
    private Forwarder? _forwarder;
    private string _listen = "";
    private int _disposed;

    public WebhookCounters Counters => _counters;

    /// <summary>Where Kestrel listens (<c>127.0.0.1:8443</c>), once started.</summary>
    public string Listen => _listen;

    public async Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Config.Webhook;
        var log = context.Loggers.CreateLogger<WebhookService>();
        var (appSecret, verifyToken) = ReadCredentials(context.Credentials);
        var addresses = BindGuard.Resolve(options, context.LoadedConfig.SourcePath);
        if (options.AllowPublicBind && addresses.Any(a => !BindGuard.IsLoopback(a)))
        {
            log.LogWarning("listening on {Addresses}, which is not loopback (webhook.allow_public_bind = true): plain HTTP is reachable from the network",
                string.Join(", ", addresses));
        }

        Directory.CreateDirectory(context.StateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _spool = Spool.Open(context.StateDir, _time);
        if (_spool.Count > 0)
        {
            log.LogInformation("{Count} events from before the restart wait in the spool for the agent", _spool.Count);
        }
        _forwarder = new Forwarder(_spool, context.Paths.SocketPath(Daemons.Agent), _counters, context.Loggers.CreateLogger<Forwarder>());
        _governor = new ConnectionGovernor(options.MaxConnections, options.HeaderTimeout, options.MaxHeaderBytes + 8 * 1024, _counters, _time);
        var endpoint = new WebhookEndpoint(options, appSecret, verifyToken, _spool, _governor,
            new RateLimiter(options.SenderMessagesPerMinute, options.GlobalMessagesPerMinute, _time), _counters,
            context.Loggers.CreateLogger<WebhookEndpoint>(), _time);
        if (verifyToken.Length == 0)
        {
            log.LogInformation("the credential {Name} is empty: the subscription handshake is off (GET answers 503)", VerifyTokenCredential);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = context.Daemon.Executable,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Kestrel's own start/stop chatter is noise in the journal; its warnings and errors are not.
        builder.Logging.ClearProviders().AddProvider(context.LogProvider).AddFilter("Microsoft", LogLevel.Warning);
        // DaemonHost owns SIGTERM/SIGINT and the shutdown phases; the generic host must not react to them too.
        builder.Services.AddSingleton<IHostLifetime, HostOwnedLifetime>();
        // A deep accept queue: under a connection flood the kernel drops SYNs past the backlog, and a real sender's
        // dropped SYN costs it a second before its retry (the kernel's somaxconn caps this).
        builder.WebHost.UseSockets(sockets => sockets.Backlog = 4096);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            ApplyLimits(kestrel.Limits, options);
            foreach (var address in addresses)
            {
                kestrel.Listen(address, options.Port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(_governor.Wrap);
                });
            }
        });

        var app = builder.Build();
        app.Run(endpoint.HandleAsync);
        _app = app;
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel says only "Failed to bind to address ...": say which setting moves it, and how to see who holds the port.
            throw new IOException($"port {options.Port} on {options.ListenAddress} is already in use by another process (`ss -ltnp 'sport = :{options.Port}'` " +
                $"shows which; another boxbot dev box, perhaps): set [webhook] port in {context.LoadedConfig.SourcePath} to a free port, or stop the other", e);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        _listen = bound?.FirstOrDefault()?.Replace("http://", "", StringComparison.Ordinal) ?? $"{options.ListenAddress}:{options.Port}";
        log.LogInformation("listening on {Listen}: POST and GET {Path}, nothing else", string.Join(", ", bound ?? [_listen]), WebhookEndpoint.Path);
    }

    /// <summary>Every Kestrel limit that matters for an exposed endpoint, set on purpose rather than left to defaults.</summary>
    internal static void ApplyLimits(KestrelServerLimits limits, WebhookOptions options)
    {
        // The ConnectionGovernor enforces max_connections: Kestrel's own limit would turn away the newest connection,
        // which under a flood is the one a real delivery arrives on.
        limits.MaxConcurrentConnections = null;
        limits.MaxConcurrentUpgradedConnections = 0;
        limits.MaxRequestBodySize = options.MaxBodyBytes;
        limits.MaxRequestHeadersTotalSize = options.MaxHeaderBytes;
        limits.MaxRequestLineSize = Math.Min(options.MaxHeaderBytes, 8 * 1024);
        limits.MaxRequestHeaderCount = 64;
        limits.MaxRequestBufferSize = Math.Max(options.MaxBodyBytes, 64 * 1024) + options.MaxHeaderBytes;
        limits.MaxResponseBufferSize = 64 * 1024;
        limits.RequestHeadersTimeout = options.HeaderTimeout;
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(120);
        limits.MinRequestBodyDataRate = new MinDataRate(options.MinBodyBytesPerSecond, TimeSpan.FromSeconds(5));
        limits.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
    }

    private static (string AppSecret, string VerifyToken) ReadCredentials(CredentialStore credentials)
    {
        var problems = new List<string>();
        string? secret = null;
        string? token = null;
        try
        {
            secret = credentials.Get(AppSecretCredential);
        }
        catch (CredentialException e)
        {
            problems.Add(e.Message);
        }
        try
        {
            // Empty is allowed: it turns the handshake off once the subscription is made.
            token = credentials.TryGet(VerifyTokenCredential) ?? credentials.Get(VerifyTokenCredential);
        }
        catch (CredentialException e)
        {
            problems.Add(e.Message);
        }
        if (problems.Count > 0)
        {
            throw new CredentialException("the webhook needs its credentials: " + string.Join("; ", problems));
        }
        return (secret!, token!.Trim());
    }

    public Task StopAcceptingAsync(CancellationToken cancellationToken) =>
        _app is null ? Task.CompletedTask : _app.StopAsync(cancellationToken);

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_forwarder is not null)
        {
            await _forwarder.DisposeAsync();
        }
    }

    public void AddStatus(IDictionary<string, string> details)
    {
        ArgumentNullException.ThrowIfNull(details);
        details["listen"] = _listen;
        _counters.AddTo(details, _spool?.Count ?? 0, _governor?.Open ?? 0, _governor?.Verified ?? 0, _governor?.Waiting ?? 0, _governor?.Reading ?? 0);
        details["agent"] = _forwarder?.State ?? "-";
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        if (_forwarder is not null)
        {
            await _forwarder.DisposeAsync();
        }
        _spool?.Dispose();
        _governor?.Dispose();
    }

    private sealed class HostOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
