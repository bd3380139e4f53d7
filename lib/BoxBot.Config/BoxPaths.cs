using BoxBot.Contracts;

namespace BoxBot.Config;

/// <summary>
/// Where everything lives: the installed layout (<c>/etc/boxbot</c>, <c>/run/boxbot</c>, <c>/var/lib</c>), or,
/// when <c>$BOXBOT_HOME</c> is set (<c>boxbot dev up</c>, tests), the same layout under that one folder.
/// </summary>
public sealed record BoxPaths
{
    /// <summary>The environment variable that switches to the development layout.</summary>
    public const string HomeVariable = "BOXBOT_HOME";

    /// <summary>The development root (absolute), or null for the installed layout.</summary>
    public string? Home { get; init; }

    /// <summary><c>$H/boxbot.toml</c> or <c>/etc/boxbot/boxbot.toml</c>.</summary>
    public required string ConfigFile { get; init; }

    /// <summary><c>$H/credentials</c> or <c>/etc/boxbot/credentials</c> (read by systemd, handed over with <c>LoadCredential=</c>).</summary>
    public required string CredentialsDir { get; init; }

    /// <summary><c>$H/run</c> or <c>/run/boxbot</c>: the sockets.</summary>
    public required string RuntimeDir { get; init; }

    /// <summary><c>$H/state</c> or <c>/var/lib</c>: each daemon's state folder is below it.</summary>
    public required string StateRoot { get; init; }

    public bool IsDevelopment => Home is not null;

    public static BoxPaths Installed { get; } = new()
    {
        ConfigFile = "/etc/boxbot/boxbot.toml",
        CredentialsDir = "/etc/boxbot/credentials",
        RuntimeDir = "/run/boxbot",
        StateRoot = "/var/lib",
    };

    public string SocketPath(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return Path.Combine(RuntimeDir, daemon.SocketName);
    }

    public string StateDir(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return Path.Combine(StateRoot, daemon.StateName);
    }

    /// <summary>The egress proxy's socket (boxbot-sandbox egress; the boxbot-egress unit): network "internet" jobs' only way out.</summary>
    public string EgressSocket => Path.Combine(RuntimeDir, "egress.sock");

    /// <summary>
    /// The venv of approved Python packages: <c>&lt;sandbox state&gt;/venv</c> (<c>/var/lib/boxbot-sandbox/venv</c>).
    /// Written only by the agent (after a human approved the install), bound read-only into every sandbox job.
    /// </summary>
    public string SandboxVenv => Path.Combine(StateDir(Daemons.Sandbox), "venv");

    /// <summary>The development layout under <paramref name="home"/> (made absolute against the current directory).</summary>
    public static BoxPaths UnderHome(string home)
    {
        ArgumentException.ThrowIfNullOrEmpty(home);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(home));
        return new BoxPaths
        {
            Home = root,
            ConfigFile = Path.Combine(root, "boxbot.toml"),
            CredentialsDir = Path.Combine(root, "credentials"),
            RuntimeDir = Path.Combine(root, "run"),
            StateRoot = Path.Combine(root, "state"),
        };
    }

    /// <summary><see cref="UnderHome"/> when <c>$BOXBOT_HOME</c> is set and not empty, else <see cref="Installed"/>.</summary>
    public static BoxPaths FromEnvironment()
    {
        var home = Environment.GetEnvironmentVariable(HomeVariable);
        return string.IsNullOrEmpty(home) ? Installed : UnderHome(home);
    }
}
