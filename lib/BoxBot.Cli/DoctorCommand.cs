using System.CommandLine;
using System.Globalization;
using System.Text;
using BoxBot.Cli.Doctor;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class DoctorCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("doctor",
            "Check the running box and say what is wrong and the command that fixes it. Checks, in order:\n" +
            "  users     system users boxbot, boxbot-sandbox, boxbot-webhook, boxbot-perception, boxbot-plugins (nologin); groups boxbot,\n" +
            "            boxbot-sandbox and the admin group, with the members each needs (admins must be in group boxbot)\n" +
            "  layout    owner, group and mode of every installed path (/etc/boxbot, /var/lib/boxbot*, /run/boxbot sockets, /usr/lib/boxbot);\n" +
            "            more open than the table or the wrong owner fails\n" +
            "  secrets   no credential file, secrets.json or identity.key is readable by group or others\n" +
            "  units     each boxbot-*.service is active, runs as its user with NoNewPrivileges, ProtectSystem=strict, ProtectHome,\n" +
            "            PrivateTmp, MemoryDenyWriteExecute, native syscalls, no capabilities; its process has NoNewPrivs 1 and Seccomp 2\n" +
            "  sandbox   a job that calls os.fork() is killed by seccomp; a network = internet job cannot reach loopback or the gateway\n" +
            "  webhook   the webhook listens on loopback only, unless [webhook] allow_public_bind = true (then a warning)\n" +
            "  ssh       sshd: passwordauthentication no, permitrootlogin no; firewall: the nftables table inet boxbot exists\n" +
            "  versions  every daemon answers and runs this CLI's version; python3 and kernel release\n" +
            "On a development box ($BOXBOT_HOME) the tree under it is checked instead, and users, units, SSH and firewall are skipped.\n" +
            "Run it as root (sudo) on an installed box: some paths and sshd -T are root's only. Every probe has a timeout.\n" +
            "Prints one line per finding (ok, warn, FAIL, skip) with the fix, then `doctor: N ok, N warnings, N failures`.\n" +
            "Exit code 0 when nothing failed (warnings allowed), 4 when a check failed.")
        { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (context, findings) = await DoctorRun.RunAsync(cancellationToken);
            var report = Report(context, findings);
            Console.Write(parse.GetValue(json) ? CliJson.Format(report, CliJsonContext.Default.DoctorReport) + "\n" : Render(report));
            return report.Summary.Failures == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }

    private static DoctorReport Report(DoctorContext context, IReadOnlyList<Finding> findings) => new()
    {
        Layout = context.Development ? "development" : "installed",
        Version = BuildInfo.Version,
        Findings = [.. findings.Select(f => new DoctorFindingReport(f.Id, f.Group, f.StatusText, f.Message, f.Fix))],
        Summary = new DoctorSummary(
            findings.Count(f => f.Status == FindingStatus.Ok),
            findings.Count(f => f.Status == FindingStatus.Warn),
            findings.Count(f => f.Status == FindingStatus.Fail),
            findings.Count(f => f.Status == FindingStatus.Skip)),
    };

    private static string Render(DoctorReport report)
    {
        var text = new StringBuilder();
        foreach (var group in report.Findings.GroupBy(f => f.Group))
        {
            text.Append(group.Key).Append('\n');
            foreach (var f in group)
            {
                var status = f.Status switch { "ok" => "ok  ", "fail" => "FAIL", _ => f.Status };
                text.Append(CultureInfo.InvariantCulture, $"  {status}  {f.Message}");
                if (f.Fix is not null)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  [fix: {f.Fix}]");
                }
                text.Append('\n');
            }
        }
        var s = report.Summary;
        text.Append(CultureInfo.InvariantCulture, $"doctor: {s.Ok} ok, {s.Warnings} warnings, {s.Failures} failures, {s.Skipped} skipped\n");
        return text.ToString();
    }
}
