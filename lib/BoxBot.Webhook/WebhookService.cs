using BoxBot.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BoxBot.Webhook;

/// <summary>
/// Kestrel on the configured loopback address. This build answers every request with an empty
/// 404 and no Server header: the WhatsApp endpoints arrive with the webhook issue.
/// </summary>
public sealed class WebhookService : IDaemonService
{
    private WebApplication? _app;
    private string _listen = "";
    private int _disposed;

    public async Task StartAsync(DaemonContext context, CancellationToken cancellationToken)
    {
        var options = context.Config.Webhook;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = context.Daemon.Executable,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Kestrel's own start/stop chatter is noise in the journal; its warnings and errors are not.
        builder.Logging.ClearProviders().AddProvider(context.LogProvider).AddFilter("Microsoft", LogLevel.Warning);
        // DaemonHost owns SIGTERM/SIGINT and the shutdown phases; the generic host must not react to them too.
        builder.Services.AddSingleton<IHostLifetime, HostOwnedLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(System.Net.IPAddress.Parse(options.ListenAddress), options.Port);
        });

        var app = builder.Build();
        app.Run(static http =>
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        _app = app;
        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        _listen = addresses?.FirstOrDefault()?.Replace("http://", "", StringComparison.Ordinal) ?? $"{options.ListenAddress}:{options.Port}";
        context.Loggers.CreateLogger<WebhookService>().LogInformation("listening on {Listen}", _listen);
    }

    public Task StopAcceptingAsync(CancellationToken cancellationToken) =>
        _app is null ? Task.CompletedTask : _app.StopAsync(cancellationToken);

    public Task DrainAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddStatus(IDictionary<string, string> details) => details["listen"] = _listen;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private sealed class HostOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
