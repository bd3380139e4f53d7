using System.Globalization;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Doctor;

/// <summary>What the package's unit for a daemon must say.</summary>
/// <param name="User">Its User=: the daemon's service user (the sandbox runner too: it builds each job in a user namespace of its own).</param>
/// <param name="EmptyCapabilities">CapabilityBoundingSet= is empty (every unit's).</param>
internal sealed record UnitExpectation(DaemonInfo Daemon, string User, bool EmptyCapabilities)
{
    public string Service => InstallLayout.Service(Daemon);

    public string Socket => InstallLayout.Socket(Daemon);
}

/// <summary>
/// Check 4: each daemon's unit is loaded, active, runs as its user with the hardening the package ships, and its
/// running process really has that uid, no_new_privs and a seccomp filter (an edited unit or a drop-in shows here).
/// </summary>
internal static class UnitsCheck
{
    public const string Group = "units";

    public const string ShowProperties = "ActiveState,SubState,MainPID,User,NoNewPrivileges,ProtectSystem,ProtectHome,PrivateTmp,MemoryDenyWriteExecute,SystemCallArchitectures,CapabilityBoundingSet,LoadState,ConditionResult";

    public static readonly IReadOnlyList<UnitExpectation> Units =
        [.. new[] { Daemons.Agent, Daemons.Sandbox, Daemons.Webhook, Daemons.Perception, Daemons.PluginHost }
            .Select(d => new UnitExpectation(d, InstallLayout.UnitUser(d), EmptyCapabilities: true))];

    /// <summary>Property → the value every unit must show.</summary>
    public static readonly IReadOnlyList<(string Key, string Value)> Hardening =
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallArchitectures", "native"),
    ];

    /// <summary>True when systemd runs this machine (sd_booted: /run/systemd/system exists) and systemctl is installed.</summary>
    public static bool SystemdAvailable => Directory.Exists("/run/systemd/system") && ChildProcess.FindInPath("systemctl") is not null;

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        if (context.Development)
        {
            return [Finding.Skip(Group, "all", "systemd units: not checked on a development box")];
        }
        if (!SystemdAvailable)
        {
            return [Finding.Skip(Group, "all", "systemd units: skip (systemd is not PID 1 here, or systemctl is missing)")];
        }
        var findings = new List<Finding>();
        foreach (var unit in Units)
        {
            var service = await ShowAsync(unit.Service, ShowProperties, cancellationToken);
            var socket = await ShowAsync(unit.Socket, "ActiveState,SubState,LoadState,ConditionResult", cancellationToken);
            if (service is null || socket is null)
            {
                findings.Add(Finding.Fail(Group, unit.Service, $"{unit.Service}: systemctl show did not answer", $"systemctl status {unit.Service}"));
                continue;
            }
            ProcStatus? process = null;
            string? processError = null;
            if (int.TryParse(service.GetValueOrDefault("MainPID"), CultureInfo.InvariantCulture, out var pid) && pid > 0)
            {
                try
                {
                    process = ProcStatus.Parse(await File.ReadAllTextAsync($"/proc/{pid}/status", cancellationToken));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    processError = e.Message;
                }
            }
            var uid = unit.User == "root" ? 0 : UnixAccounts.LookupUid(unit.User);
            findings.AddRange(Evaluate(unit, service, socket, process, processError, uid));
        }
        return findings;
    }

    /// <summary>
    /// The verdict on one daemon's units: <paramref name="service"/> and <paramref name="socket"/> are their
    /// <c>systemctl show</c> properties, <paramref name="process"/> the main process's status (null when none runs).
    /// </summary>
    public static IReadOnlyList<Finding> Evaluate(UnitExpectation unit, IReadOnlyDictionary<string, string> service, IReadOnlyDictionary<string, string> socket,
        ProcStatus? process, string? processError, uint? expectedUid)
    {
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(socket);
        var name = unit.Service;
        const string Reinstall = "sudo apt-get install --reinstall boxbot && sudo systemctl daemon-reload";
        if (service.GetValueOrDefault("LoadState") != "loaded")
        {
            return [Finding.Fail(Group, name, $"{name} is not installed (LoadState={service.GetValueOrDefault("LoadState")})", Reinstall)];
        }
        var findings = new List<Finding>();
        var skippedWebhook = unit.Daemon == Daemons.Webhook
                             && (service.GetValueOrDefault("ConditionResult") == "no" || socket.GetValueOrDefault("ConditionResult") == "no");
        var active = service.GetValueOrDefault("ActiveState");
        findings.Add(active == "active"
            ? Finding.Ok(Group, name + ".state", $"{name}: active ({service.GetValueOrDefault("SubState")})")
            : skippedWebhook
                ? Finding.Warn(Group, name + ".state",
                    $"{name}: not started because the credential whatsapp-app-secret is empty (ConditionResult=no); WhatsApp is off until it is configured",
                    "sudoedit /etc/boxbot/credentials/whatsapp-app-secret && sudo systemctl restart boxbot-webhook.socket")
                : Finding.Fail(Group, name + ".state",
                    $"{name}: {active} ({service.GetValueOrDefault("SubState")}); see `journalctl -u {name}`", $"sudo systemctl enable --now {unit.Socket} {name}"));
        if (socket.GetValueOrDefault("LoadState") != "loaded")
        {
            findings.Add(Finding.Fail(Group, unit.Socket, $"{unit.Socket} is not installed (LoadState={socket.GetValueOrDefault("LoadState")})", Reinstall));
        }
        else if (socket.GetValueOrDefault("ActiveState") != "active" && !skippedWebhook)
        {
            findings.Add(Finding.Fail(Group, unit.Socket, $"{unit.Socket}: {socket.GetValueOrDefault("ActiveState")}, so nothing listens on {InstallLayout.RuntimeDir}/{unit.Daemon.SocketName}",
                $"sudo systemctl enable --now {unit.Socket}"));
        }

        var wrong = new List<string>();
        var user = service.GetValueOrDefault("User") is { Length: > 0 } u ? u : "root";
        if (user != unit.User)
        {
            wrong.Add($"User={user} (expected {unit.User})");
        }
        foreach (var (key, value) in Hardening)
        {
            if (service.GetValueOrDefault(key) != value)
            {
                wrong.Add($"{key}={service.GetValueOrDefault(key)} (expected {value})");
            }
        }
        if (unit.EmptyCapabilities && service.GetValueOrDefault("CapabilityBoundingSet") is { Length: > 0 } caps)
        {
            wrong.Add($"CapabilityBoundingSet={Shorten(caps)} (expected empty)");
        }
        findings.Add(wrong.Count == 0
            ? Finding.Ok(Group, name + ".hardening", $"{name}: User={user}, {string.Join(", ", Hardening.Select(h => $"{h.Key}={h.Value}"))}" +
                                                     (unit.EmptyCapabilities ? ", CapabilityBoundingSet= empty" : " (runs as root: it builds the jobs' namespaces)"))
            : Finding.Fail(Group, name + ".hardening", $"{name}: {string.Join(", ", wrong)}; an edited unit or a drop-in (see `systemctl cat {name}`)",
                $"{Reinstall} && sudo systemctl restart {name}"));

        if (processError is not null)
        {
            findings.Add(Finding.Warn(Group, name + ".process", $"{name}: its process could not be examined ({processError})", "sudo boxbot doctor"));
        }
        else if (process is not null)
        {
            var bad = new List<string>();
            if (process.Uid != expectedUid)
            {
                bad.Add($"runs as uid {process.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?"}, not {unit.User} ({expectedUid?.ToString(CultureInfo.InvariantCulture) ?? "no such user"})");
            }
            if (process.NoNewPrivs != true)
            {
                bad.Add("NoNewPrivs is not 1");
            }
            if (process.Seccomp != 2)
            {
                bad.Add($"Seccomp is {process.Seccomp?.ToString(CultureInfo.InvariantCulture) ?? "?"}, not 2 (filter)");
            }
            findings.Add(bad.Count == 0
                ? Finding.Ok(Group, name + ".process", $"{name}: its process runs as {unit.User} with NoNewPrivs 1 and a seccomp filter")
                : Finding.Fail(Group, name + ".process", $"{name}: its process {string.Join(", ", bad)}", $"sudo systemctl restart {name}"));
        }
        return findings;
    }

    private static async Task<IReadOnlyDictionary<string, string>?> ShowAsync(string unit, string properties, CancellationToken cancellationToken)
    {
        var r = await ChildProcess.RunAsync("systemctl", ["show", unit, "-p", properties], cancellationToken: cancellationToken);
        return r.ExitCode == 0 ? SystemdText.ParseShow(r.Stdout) : null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
