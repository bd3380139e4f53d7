using System.Net;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli.Doctor;

/// <summary>
/// Check 7: the webhook, the box's only inbound listener, listens on loopback only, unless the config chose a public
/// bind ([webhook] allow_public_bind = true), which is then a warning to keep a firewall in front. The kernel's own
/// socket tables (/proc/net/tcp, /proc/net/tcp6) say what listens, whatever the config claims.
/// </summary>
internal static class WebhookBindCheck
{
    public const string Group = "webhook";

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        var (options, source) = WebhookOptionsOf(context);
        var port = WebhookPort(context);
        if (port is not { } p)
        {
            return [Finding.Skip(Group, "bind", $"webhook bind: no port to check ({source} says port = 0 and the webhook is not running)")];
        }
        var listeners = new List<IPEndPoint>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (File.Exists(table))
            {
                listeners.AddRange(ProcNet.Listeners(await File.ReadAllTextAsync(table, cancellationToken)));
            }
        }
        return [Evaluate(listeners, p, options.AllowPublicBind, context.StatusOf(Daemons.Webhook).Up, source, context.Development)];
    }

    /// <summary>The verdict on what listens on the webhook's <paramref name="port"/>, given the config's allow_public_bind.</summary>
    public static Finding Evaluate(IReadOnlyList<IPEndPoint> listeners, int port, bool allowPublicBind, bool webhookUp, string configSource, bool development)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        const string Id = "bind";
        var onPort = listeners.Where(l => l.Port == port).Select(ProcNet.Format).Distinct().ToList();
        var open = listeners.Where(l => l.Port == port && !ProcNet.IsLoopback(l.Address)).Select(ProcNet.Format).Distinct().ToList();
        if (onPort.Count == 0)
        {
            return webhookUp
                ? Finding.Warn(Group, Id, $"webhook bind: the webhook is up but nothing listens on TCP port {port} here", null)
                : Finding.Skip(Group, Id, $"webhook bind: the webhook is not running; nothing listens on TCP port {port}");
        }
        if (open.Count == 0)
        {
            return Finding.Ok(Group, Id, $"webhook bind: TCP port {port} listens on loopback only ({string.Join(", ", onPort)})");
        }
        var edit = development ? $"${{EDITOR:-vi}} {configSource} && boxbot dev up" : $"sudoedit {configSource} && sudo systemctl restart boxbot-webhook.service";
        return allowPublicBind
            ? Finding.Warn(Group, Id, $"webhook bind: TCP port {port} is public on {string.Join(", ", open)} ([webhook] allow_public_bind = true in {configSource}): " +
                                      "plain HTTP on the network; keep a firewall in front that lets only your TLS proxy or tunnel reach it",
                development ? null : "sudo nft list table inet boxbot  # the firewall must guard port " + port)
            : Finding.Fail(Group, Id, $"webhook bind: TCP port {port} listens on {string.Join(", ", open)}, not loopback, though [webhook] allow_public_bind is false in {configSource}",
                edit + "  # set [webhook] listen_address = \"127.0.0.1\"");
    }

    /// <summary>The port from the webhook's config, or (port = 0, tests) from the address the running webhook reports.</summary>
    public static int? WebhookPort(DoctorContext context)
    {
        var (options, _) = WebhookOptionsOf(context);
        if (options.Port != 0)
        {
            return options.Port;
        }
        var listen = context.StatusOf(Daemons.Webhook).Details?.GetValueOrDefault("listen");
        return IPEndPoint.TryParse(listen ?? "", out var endpoint) && endpoint.Port != 0 ? endpoint.Port : null;
    }

    /// <summary>
    /// [webhook] as the running webhook read it: the config file its status names (dev up may have been given --config),
    /// else the layout's config file.
    /// </summary>
    public static (WebhookOptions Options, string Source) WebhookOptionsOf(DoctorContext context)
    {
        var path = context.StatusOf(Daemons.Webhook).ConfigPath is { Length: > 0 } reported ? reported : context.Paths.ConfigFile;
        try
        {
            return (ConfigLoader.LoadOrDefaults(path).Config.Webhook, path);
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            return (context.Config.Webhook, path);
        }
    }
}
