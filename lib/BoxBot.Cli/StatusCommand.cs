using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class StatusCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("status",
            "Show each daemon: up, down or off, pid, version, uptime, and what it reports about itself. A daemon that is down is " +
            "reported, never a crash. On an installed box the webhook is \"off\", not down, until WhatsApp is set up " +
            "(whatsapp-app-secret: docs/whatsapp.md). Without BOXBOT_HOME this looks at the installed box (/run/boxbot), and says so " +
            "when a development box runs in ./.boxbot-dev.\n" +
            "Exit code 0 when every daemon is up (or off on purpose), 1 otherwise.")
        { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var paths = BoxPaths.FromEnvironment();
            var config = CommonOptions.LoadForClient(paths);
            var daemons = (await DaemonProbe.ProbeAllAsync(paths, config.Ipc.RequestTimeout, cancellationToken))
                .Select(d => WebhookOff(d, paths) ? d with
                {
                    Off = true,
                    Error = "off until WhatsApp is set up: the webhook's units start once the credential whatsapp-app-secret is set (docs/whatsapp.md)",
                } : d).ToList();
            var report = new StatusReport
            {
                Daemons = daemons,
                AllUp = daemons.All(d => d.Up || d.Off),
                Layout = paths.IsDevelopment ? "development" : "installed",
                RuntimeDir = paths.RuntimeDir,
                Hint = daemons.All(d => !d.Up) ? DevHints.UnsetHome(paths) : null,
            };
            if (parse.GetValue(json))
            {
                CliJson.Print(report, CliJsonContext.Default.StatusReport);
            }
            else
            {
                Console.Write(Render(report));
            }
            return report.AllUp ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static string Render(StatusReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"DAEMON",-12} {"STATE",-5} {"PID",-8} {"UPTIME",-10} {"VERSION",-20} DETAILS");
        foreach (var d in report.Daemons)
        {
            var details = d.Up
                ? string.Join(' ', (d.Details ?? new Dictionary<string, string>()).Where(kv => kv.Key is not ("socket" or "connections")).Select(kv => $"{kv.Key}={kv.Value}"))
                : d.Error;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{d.Name,-12} {d.State,-5} {d.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",-8} {Uptime(d.UptimeSeconds),-10} {d.Version ?? "-",-20} {details}");
        }
        var up = report.Daemons.Count(d => d.Up);
        var off = report.Daemons.Count(d => d.Off);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{up} of {Daemons.All.Count} daemons up{(off > 0 ? $", {off} off" : "")} ({report.Layout} layout, sockets in {report.RuntimeDir})");
        if (report.Hint is { } hint)
        {
            text.AppendLine(hint);
        }
        return text.ToString();
    }

    /// <summary>
    /// An installed webhook whose socket is absent has not been started on purpose: its units wait (ConditionFileNotEmpty=)
    /// for whatsapp-app-secret, the same verdict doctor gives ("skip").
    /// </summary>
    private static bool WebhookOff(DaemonStatusReport d, BoxPaths paths) =>
        !d.Up && !paths.IsDevelopment && d.Name == Daemons.Webhook.Name && !Path.Exists(paths.SocketPath(Daemons.Webhook));

    private static string Uptime(double? seconds) =>
        seconds is { } s ? TimeSpan.FromSeconds(Math.Floor(s)).ToString(s >= 86400 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture) : "-";
}
