namespace BoxBot.Contracts;

/// <summary>What a path of the installed layout is.</summary>
public enum LayoutKind
{
    Directory,
    File,
    /// <summary>A Unix socket, made by a systemd socket unit on an installed box.</summary>
    Socket,
}

/// <summary>One path of the installed layout, with the owner and mode the package gives it.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Kind">Directory, file or socket.</param>
/// <param name="Owner">Owning user (a name, resolved on the box).</param>
/// <param name="Group">Owning group (a name).</param>
/// <param name="Mode">Permission bits. Anything more open (a group or other bit beyond these, or setuid/setgid/sticky) is a defect.</param>
/// <param name="Required">False when the path may be absent on a healthy box (made later, or only when configured).</param>
/// <param name="Holds">What it holds, and for an optional path when it appears.</param>
public sealed record LayoutEntry(string Path, LayoutKind Kind, string Owner, string Group, UnixFileMode Mode, bool Required, string Holds)
{
    /// <summary>The mode as chmod takes it: "0640".</summary>
    public string ModeText => "0" + Convert.ToString((int)Mode & 0xFFF, 8).PadLeft(3, '0');

    /// <summary>"root:boxbot", as chown takes it.</summary>
    public string OwnerText => Owner + ":" + Group;
}

/// <summary>
/// The installed layout: every path the package and the units create, with owner, group and mode. One list for
/// the package's maintainer scripts (by review), <c>boxbot doctor</c> (which checks a running box against it)
/// and the install test. Credential files are listed per name: <see cref="Entries"/> takes the names
/// (<c>BoxBot.Config.Credentials.All</c>), since this assembly references nothing.
/// </summary>
public static class InstallLayout
{
    public const string ConfigDir = "/etc/boxbot";
    public const string ConfigFile = "/etc/boxbot/boxbot.toml";
    public const string CredentialsDir = "/etc/boxbot/credentials";
    public const string RuntimeDir = "/run/boxbot";
    public const string LibDir = "/usr/lib/boxbot";

    /// <summary>The egress proxy's socket, made by boxbot-egress.socket.</summary>
    public const string EgressSocket = RuntimeDir + "/egress.sock";

    private const UnixFileMode RW = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode RWX = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GR = UnixFileMode.GroupRead;
    private const UnixFileMode GRW = UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    private const UnixFileMode GRX = UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
    private const UnixFileMode ORX = UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>0755</summary>
    public const UnixFileMode PublicDirectory = RWX | GRX | ORX;
    /// <summary>0750</summary>
    public const UnixFileMode GroupDirectory = RWX | GRX;
    /// <summary>0700</summary>
    public const UnixFileMode PrivateDirectory = RWX;
    /// <summary>0640</summary>
    public const UnixFileMode GroupReadableFile = RW | GR;
    /// <summary>0600</summary>
    public const UnixFileMode PrivateFile = RW;
    /// <summary>0660: owner and group may connect.</summary>
    public const UnixFileMode GroupSocket = RW | GRW;
    /// <summary>0600: only the owner may connect.</summary>
    public const UnixFileMode PrivateSocket = RW;

    private static readonly LayoutEntry[] Before =
    [
        new(ConfigDir, LayoutKind.Directory, "root", "root", PublicDirectory, true, "configuration"),
        new(ConfigFile, LayoutKind.File, "root", "boxbot", GroupReadableFile, true, "the configuration (no secrets); readable by the daemons' group"),
        new(CredentialsDir, LayoutKind.Directory, "root", "root", PrivateDirectory, true, "secrets handed to the units with LoadCredential="),
    ];

    private static readonly LayoutEntry[] After =
    [
        new("/var/lib/boxbot", LayoutKind.Directory, "boxbot", "boxbot", PrivateDirectory, true, "the agent's state"),
        new("/var/lib/boxbot/boxbot.db", LayoutKind.File, "boxbot", "boxbot", PrivateFile, false, "the agent's database (made at first start)"),
        new("/var/lib/boxbot/secrets.json", LayoutKind.File, "boxbot", "boxbot", PrivateFile, false, "secrets scripts may use (made when the first is stored)"),
        new("/var/lib/boxbot/identity.key", LayoutKind.File, "boxbot", "boxbot", PrivateFile, true, "the key registration codes are hashed under (made by the package at install)"),
        new("/var/lib/boxbot-sandbox", LayoutKind.Directory, "boxbot-sandbox", "boxbot-sandbox", GroupDirectory, true, "the sandbox's state; group boxbot-sandbox lets the agent reach the venv"),
        new("/var/lib/boxbot-sandbox/venv", LayoutKind.Directory, "boxbot", "boxbot", PublicDirectory, true, "approved Python packages: written by the agent, read-only to jobs"),
        new("/var/lib/boxbot-sandbox/jobs", LayoutKind.Directory, "boxbot-sandbox", "boxbot-sandbox", PrivateDirectory, true, "job folders: the runner's, where its unit may write"),
        new("/var/lib/boxbot-sandbox/plugin-jobs", LayoutKind.Directory, "boxbot-sandbox", "boxbot-sandbox", PrivateDirectory, true, "the job folders of the plugins' processes"),
        new("/var/lib/boxbot-sandbox/plugin-data", LayoutKind.Directory, "boxbot-sandbox", "boxbot-sandbox", PrivateDirectory, true, "each plugin's own data folder (its /data), kept until the plugin is removed"),
        new("/var/lib/boxbot-webhook", LayoutKind.Directory, "boxbot-webhook", "boxbot-webhook", PrivateDirectory, true, "the webhook's inbound spool"),
        new("/var/lib/boxbot-perception", LayoutKind.Directory, "boxbot-perception", "boxbot-perception", PrivateDirectory, true, "the perception daemon's state"),
        new("/var/lib/boxbot-plugins", LayoutKind.Directory, "boxbot-plugins", "boxbot-plugins", GroupDirectory, true,
            "the plugin host's state; group boxbot-plugins (the sandbox runner) reaches plugins/, the installed and staged code it runs"),
        new("/var/lib/boxbot-plugins/mesh", LayoutKind.Directory, "boxbot-plugins", "boxbot-plugins", PrivateDirectory, false,
            "the household broker's keys (operator, accounts, CA) and users, only the plugin host's (made by `boxbot mesh init` when mesh.broker is local)"),
        new("/var/lib/boxbot-nats", LayoutKind.Directory, "root", "root", PublicDirectory, true, "the household broker's folder (open, so the plugin host reaches config/)"),
        new("/var/lib/boxbot-nats/config", LayoutKind.Directory, "boxbot-plugins", BrokerUser, GroupDirectory | UnixFileMode.SetGroup, false,
            "the broker's configuration and accounts: written by boxbot, read by nats-server (setgid: what the plugin host writes stays the broker's group); made by `boxbot mesh init`"),
        new(RuntimeDir, LayoutKind.Directory, "root", "boxbot", GroupDirectory, true, "the sockets; group boxbot reaches them"),
        new(SocketPath(Daemons.Agent), LayoutKind.Socket, "root", "boxbot", GroupSocket, true, "the agent's socket (boxbot-agent.socket)"),
        new(SocketPath(Daemons.Sandbox), LayoutKind.Socket, "boxbot", Daemons.PluginHost.ServiceUser, GroupSocket, true,
            "the sandbox's socket: the agent's user and the plugin host's group may connect, and the runner checks each method's caller (boxbot-sandbox.socket)"),
        new(SocketPath(Daemons.Webhook), LayoutKind.Socket, "root", "boxbot-admin", GroupSocket, false, "the webhook's control socket (absent until whatsapp-app-secret is set: the unit is skipped)"),
        new(SocketPath(Daemons.Perception), LayoutKind.Socket, "root", "boxbot-admin", GroupSocket, true, "the perception daemon's control socket"),
        new(SocketPath(Daemons.PluginHost), LayoutKind.Socket, "root", "boxbot", GroupSocket, true, "the plugin host's socket"),
        new(EgressSocket, LayoutKind.Socket, "root", Daemons.Sandbox.ServiceUser, GroupSocket, true,
            "the egress proxy's socket (boxbot-egress.socket): internet jobs' only way out, through the sandbox runner"),
        new(LibDir, LayoutKind.Directory, "root", "root", PublicDirectory, true, "the executables, libe_sqlite3.so, skills/, sandbox-runtime/, harden-os.sh"),
    ];

    /// <summary>The entry of one credential file: <c>/etc/boxbot/credentials/NAME</c>, root 0600, made by the package (empty when not configured).</summary>
    public static LayoutEntry CredentialFile(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(CredentialsDir + "/" + name, LayoutKind.File, "root", "root", PrivateFile, true,
            "a credential (empty until configured); read by systemd, never by a daemon directly");
    }

    /// <summary>The whole layout in the order of the table in docs: the config, one file per credential name, state, sockets, executables.</summary>
    public static IReadOnlyList<LayoutEntry> Entries(IEnumerable<string> credentialNames)
    {
        ArgumentNullException.ThrowIfNull(credentialNames);
        return [.. Before, .. credentialNames.Select(CredentialFile), .. After];
    }

    private static string SocketPath(DaemonInfo daemon) => RuntimeDir + "/" + daemon.SocketName;

    /// <summary>The admins' group (the admin methods check it).</summary>
    public const string AdminGroup = "boxbot-admin";

    /// <summary>The group that reaches /run/boxbot: the service users that call a daemon, and the admins.</summary>
    public const string SocketGroup = "boxbot";

    /// <summary>The daemons' system users (no home, no login shell), in the order doctor reports them.</summary>
    public static IReadOnlyList<string> ServiceUsers { get; } =
        [Daemons.Agent.ServiceUser, Daemons.Sandbox.ServiceUser, Daemons.Webhook.ServiceUser, Daemons.Perception.ServiceUser, Daemons.PluginHost.ServiceUser, BrokerUser];

    /// <summary>Each group and the service users that must be in it besides their own group, and why (docs/security.md, "Users").</summary>
    public static IReadOnlyList<(string Group, string[] Members, string Why)> Memberships { get; } =
    [
        (SocketGroup, [Daemons.Webhook.ServiceUser, Daemons.Perception.ServiceUser, Daemons.PluginHost.ServiceUser, Daemons.Sandbox.ServiceUser],
            "they reach the sockets in /run/boxbot"),
        (Daemons.Sandbox.ServiceUser, [Daemons.Agent.ServiceUser], "the agent writes the venv below /var/lib/boxbot-sandbox"),
        (Daemons.PluginHost.ServiceUser, [Daemons.Sandbox.ServiceUser], "the sandbox runner reads the plugins it runs below /var/lib/boxbot-plugins"),
    ];

    /// <summary>The user a daemon's unit runs it as: its service user (the sandbox runner too: it builds jobs in user namespaces).</summary>
    public static string UnitUser(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon.ServiceUser;
    }

    /// <summary>
    /// Environment a daemon runs with wherever it is started: its unit's <c>Environment=</c> lines, <c>boxbot dev up</c> and the
    /// benchmarks set the same (a test keeps the units equal to this). The webhook's gen-0 budget is 4 MiB: the GC's default
    /// follows the CPU's cache size, and on a big-cache machine a flood of forged requests then grew the resident set by
    /// tens of MiB between collections; the runtime takes this knob from the environment only (it has no public name).
    /// </summary>
    public static IReadOnlyDictionary<string, string> RuntimeEnvironment(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon == Daemons.Webhook ? WebhookEnvironment : NoEnvironment;
    }

    private static readonly IReadOnlyDictionary<string, string> WebhookEnvironment = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x400000" };
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    /// <summary>The household broker's units: Debian's nats-server as <c>boxbot-nats</c>, and the oneshot that reloads it.</summary>
    public static IReadOnlyList<string> BrokerServices { get; } = ["boxbot-nats.service", "boxbot-nats-reload.service"];

    /// <summary>The household broker's user (Debian's nats-server runs as it).</summary>
    public const string BrokerUser = "boxbot-nats";

    /// <summary>The egress proxy's service (<c>boxbot-sandbox egress</c>, DynamicUser): network "internet" jobs' only way out.</summary>
    public const string EgressService = "boxbot-egress.service";

    /// <summary>The unit name of a daemon's service (<c>boxbot-agent.service</c>).</summary>
    public static string Service(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon.Executable + ".service";
    }

    /// <summary>The unit name of a daemon's socket (<c>boxbot-agent.socket</c>).</summary>
    public static string Socket(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon.Executable + ".socket";
    }
}
