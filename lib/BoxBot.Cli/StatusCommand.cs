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
            "Show each daemon: up or down, pid, version, uptime. A daemon that is down is reported, never a crash.\n" +
            "Exit code 0 when all five are up, 1 otherwise.")
        { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var paths = BoxPaths.FromEnvironment();
            var config = CommonOptions.LoadForClient(paths);
            var daemons = await DaemonProbe.ProbeAllAsync(paths, config.Ipc.RequestTimeout, cancellationToken);
            var report = new StatusReport
            {
                Daemons = daemons,
                AllUp = daemons.All(d => d.Up),
                Layout = paths.IsDevelopment ? "development" : "installed",
                RuntimeDir = paths.RuntimeDir,
            };
            Console.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, CliJsonContext.Default.StatusReport) + "\n" : Render(report));
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
                $"{d.Name,-12} {(d.Up ? "up" : "down"),-5} {d.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",-8} {Uptime(d.UptimeSeconds),-10} {d.Version ?? "-",-20} {details}");
        }
        var up = report.Daemons.Count(d => d.Up);
        text.AppendLine(CultureInfo.InvariantCulture, $"{up} of {Daemons.All.Count} daemons up ({report.Layout} layout, sockets in {report.RuntimeDir})");
        return text.ToString();
    }

    private static string Uptime(double? seconds) =>
        seconds is { } s ? TimeSpan.FromSeconds(Math.Floor(s)).ToString(s >= 86400 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture) : "-";
}
