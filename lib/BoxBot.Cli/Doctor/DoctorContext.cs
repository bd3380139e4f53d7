using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Doctor;

/// <summary>What every check shares: the layout, the config, who runs doctor, and each daemon's status (asked once).</summary>
internal sealed class DoctorContext
{
    public required BoxPaths Paths { get; init; }

    /// <summary>The config as the CLI reads it (the installed file needs group boxbot; defaults otherwise).</summary>
    public required BoxBotConfig Config { get; init; }

    /// <summary>Each daemon's <c>system.status</c> (or why there was none), in <see cref="Daemons.All"/> order.</summary>
    public required IReadOnlyList<DaemonStatusReport> Daemons { get; init; }

    /// <summary>Per-call limit for socket calls; a daemon that does not answer within it is a failure naming it.</summary>
    public required TimeSpan ProbeTimeout { get; init; }

    public bool Development => Paths.IsDevelopment;

    public bool IsRoot { get; init; } = LinuxProcess.EffectiveUid == 0;

    /// <summary>"sudo " on an installed box (whose paths belong to root), nothing in a development tree (the developer's own).</summary>
    public string Sudo => Development ? "" : "sudo ";

    public DaemonStatusReport StatusOf(DaemonInfo daemon) => Daemons.First(d => d.Name == daemon.Name);

    /// <summary>How to restart a daemon, in the words of this layout.</summary>
    public string RestartCommand(DaemonInfo daemon) =>
        Development ? "boxbot dev up  # after stopping the running one with Ctrl-C" : $"sudo systemctl restart {InstallLayout.Service(daemon)}";
}
