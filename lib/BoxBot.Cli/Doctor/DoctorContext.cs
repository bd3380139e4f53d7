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

    /// <summary>Restarting a development box: `dev up` runs in the foreground of some terminal and has no stop command of its own.</summary>
    public const string DevRestart = "Ctrl-C in the terminal running `boxbot dev up`, then `boxbot dev up` again";

    /// <summary>How to (re)start a daemon, in the words of this layout: a development daemon that is down just needs `dev up`.</summary>
    public string RestartCommand(DaemonInfo daemon) =>
        Development ? (StatusOf(daemon).Up ? DevRestart : "boxbot dev up") : $"sudo systemctl restart {InstallLayout.Service(daemon)}";
}
