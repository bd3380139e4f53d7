namespace BoxBot.Contracts;

/// <summary>What an installed path is.</summary>
public enum InstalledKind
{
    Directory,
    File,
    Socket,
}

/// <summary>One path of an installed box, with the owner and mode it must have.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Kind">Directory, regular file or socket.</param>
/// <param name="Owner">Owning user name.</param>
/// <param name="Group">Owning group name.</param>
/// <param name="Mode">Permission bits (for example O(640)).</param>
/// <param name="Required">False when the path appears only later (the database at first start) or only when configured.</param>
/// <param name="Holds">What it is, for messages and docs.</param>
public sealed record InstalledPath(string Path, InstalledKind Kind, string Owner, string Group, int Mode, bool Required, string Holds);

/// <summary>
/// The installed layout (docs/security.md, "Installed files" and "Sockets"): the one list the package's maintainer
/// scripts are tested against, and that <c>boxbot doctor</c> checks on a running box.
/// </summary>
public static class InstallLayout
{
    public const string LibDir = "/usr/lib/boxbot";
    public const string AdminGroup = "boxbot-admin";

    /// <summary>The group that reaches /run/boxbot: the service users that call a daemon, and the admins.</summary>
    public const string SocketGroup = "boxbot";

    /// <summary>Names of the credential files the package creates (empty until set), as in the config's catalogue.</summary>
    public static IReadOnlyList<string> CredentialNames { get; } =
        ["whatsapp-app-secret", "whatsapp-verify-token", "whatsapp-access-token", "llm-api-key", "mesh-password"];

    /// <summary>Each service user and the groups it must be in besides its own (docs/security.md, "Users").</summary>
    public static IReadOnlyDictionary<string, string[]> ServiceUsers { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Daemons.Agent.ServiceUser] = ["boxbot-sandbox"],
        [Daemons.Sandbox.ServiceUser] = [SocketGroup],
        [Daemons.Webhook.ServiceUser] = [SocketGroup],
        [Daemons.Perception.ServiceUser] = [SocketGroup],
        [Daemons.PluginHost.ServiceUser] = [SocketGroup],
    };

    /// <summary>The user a daemon's unit runs it as: its service user, except the sandbox runner (root; docs/security.md).</summary>
    public static string UnitUser(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon == Daemons.Sandbox ? "root" : daemon.ServiceUser;
    }

    /// <summary>The unit name of a daemon's service (<c>boxbot-agent.service</c>).</summary>
    public static string Service(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon.Executable + ".service";
    }

    public static IReadOnlyList<InstalledPath> Paths { get; } = Build();

    /// <summary>A mode written as its octal digits: <c>O(640)</c> is 0640.</summary>
    private static int O(int digits) => Convert.ToInt32(digits.ToString(System.Globalization.CultureInfo.InvariantCulture), 8);

    private static InstalledPath[] Build()
    {
        const InstalledKind Dir = InstalledKind.Directory;
        const InstalledKind File = InstalledKind.File;
        const InstalledKind Sock = InstalledKind.Socket;
        List<InstalledPath> paths =
        [
            new(LibDir, Dir, "root", "root", O(755), true, "the executables, libe_sqlite3.so, skills/, sandbox-runtime/, harden-os.sh"),
            new("/etc/boxbot", Dir, "root", "root", O(755), true, "configuration"),
            new("/etc/boxbot/boxbot.toml", File, "root", "boxbot", O(640), true, "the configuration (no secrets)"),
            new("/etc/boxbot/credentials", Dir, "root", "root", O(700), true, "secrets handed to the units with LoadCredential="),
        ];
        paths.AddRange(CredentialNames.Select(name =>
            new InstalledPath("/etc/boxbot/credentials/" + name, File, "root", "root", O(600), true, "credential " + name)));
        paths.AddRange(
        [
            new("/var/lib/boxbot", Dir, "boxbot", "boxbot", O(700), true, "the agent's state"),
            new("/var/lib/boxbot/identity.key", File, "boxbot", "boxbot", O(600), true, "the box key (signs registration codes)"),
            new("/var/lib/boxbot/boxbot.db", File, "boxbot", "boxbot", O(600), false, "the agent's database"),
            new("/var/lib/boxbot/secrets.json", File, "boxbot", "boxbot", O(600), false, "secrets scripts may use"),
            new("/var/lib/boxbot-sandbox", Dir, "boxbot-sandbox", "boxbot-sandbox", O(750), true, "the sandbox's state"),
            new("/var/lib/boxbot-sandbox/venv", Dir, "boxbot", "boxbot", O(755), true, "approved packages (the agent's, read-only to jobs)"),
            new("/var/lib/boxbot-sandbox/jobs", Dir, "root", "root", O(700), false, "job folders (the runner makes it)"),
            new("/var/lib/boxbot-webhook", Dir, "boxbot-webhook", "boxbot-webhook", O(700), true, "the webhook's spool"),
            new("/var/lib/boxbot-perception", Dir, "boxbot-perception", "boxbot-perception", O(700), true, "perception's state"),
            new("/var/lib/boxbot-plugins", Dir, "boxbot-plugins", "boxbot-plugins", O(700), true, "plugins"),
            new("/run/boxbot", Dir, "root", SocketGroup, O(750), true, "the sockets"),
            new("/run/boxbot/agent.sock", Sock, "root", SocketGroup, O(660), true, "the agent's socket"),
            new("/run/boxbot/sandbox.sock", Sock, "boxbot", "root", O(600), true, "the sandbox's socket (the agent's user only)"),
            new("/run/boxbot/webhook.sock", Sock, "root", AdminGroup, O(660), false, "the webhook's socket (once WhatsApp is configured)"),
            new("/run/boxbot/perception.sock", Sock, "root", AdminGroup, O(660), true, "perception's socket"),
            new("/run/boxbot/plugins.sock", Sock, "root", SocketGroup, O(660), true, "the plugin host's socket"),
        ]);
        return [.. paths];
    }
}
