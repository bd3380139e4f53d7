using System.Net;

namespace BoxBot.Config;

/// <summary>How much the daemons log. The TOML spells it in lower case (<c>log_level = "info"</c>).</summary>
public enum LogLevelSetting
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>Settings for the whole box (<c>[box]</c>).</summary>
/// <param name="LogLevel">Minimum level the daemons log.</param>
/// <param name="AdminGroup">Unix group whose members may administer the box with the <c>boxbot</c> CLI.</param>
public sealed record BoxOptions(LogLevelSetting LogLevel, string AdminGroup)
{
    public BoxOptions() : this(LogLevelSetting.Info, "boxbot-admin") { }

    public static BoxOptions Default { get; } = new();
}

/// <summary>Local IPC over the daemons' Unix sockets (<c>[ipc]</c>).</summary>
/// <param name="RequestTimeout">How long a CLI or client call waits for an answer.</param>
/// <param name="MaxConnections">Concurrent connections each daemon socket accepts.</param>
public sealed record IpcOptions(TimeSpan RequestTimeout, int MaxConnections)
{
    public IpcOptions() : this(TimeSpan.FromSeconds(10), 64) { }

    public static IpcOptions Default { get; } = new();
}

/// <summary>The agent (<c>[agent]</c>), including where approved Python packages for sandbox jobs come from.</summary>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
/// <param name="PackageIndexUrl">The package index pip resolves and downloads from (https, or http to a loopback host); null for none.</param>
/// <param name="PackageFindLinks">A local folder of wheels pip also looks in (absolute path); <c>""</c> for none.</param>
public sealed record AgentOptions(string SocketGroup, Uri? PackageIndexUrl, string PackageFindLinks)
{
    public AgentOptions() : this("", new Uri("https://pypi.org/simple"), "") { }

    public static AgentOptions Default { get; } = new();
}

/// <summary>The sandbox runner and the default and largest limits of a job (<c>[sandbox]</c>).</summary>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
/// <param name="JobUser">Unix user jobs run as (the runner drops to it; never root).</param>
/// <param name="Python">Absolute path of the interpreter jobs run with.</param>
/// <param name="MaxConcurrentJobs">Jobs running at once; more wait in the queue.</param>
/// <param name="QueueLength">Jobs that may wait; one more is refused at once ("busy"), never left hanging.</param>
/// <param name="WarmJobs">Jobs started and confined ahead, waiting for a script (network "none"); 0 starts every job cold.</param>
/// <param name="Timeout">Wall-clock limit of a job: the default, and the most a job may ask for.</param>
/// <param name="Cpu">CPU-time limit of a job (RLIMIT_CPU): default and maximum.</param>
/// <param name="MemoryMiB">Address-space limit of a job in MiB (RLIMIT_AS): default and maximum.</param>
/// <param name="MaxTasks">Processes and threads of a job: its own cgroup's pids.max where the host allows, else RLIMIT_NPROC of the job user, shared by all jobs.</param>
/// <param name="MaxOpenFiles">Open descriptors of a job (RLIMIT_NOFILE); stays below the launcher's exec descriptor (100).</param>
/// <param name="WorkspaceMiB">Size of a job's workspace (a tmpfs), and of its largest file.</param>
/// <param name="OutputKiB">Captured stdout, and separately stderr, per job; more ends the job.</param>
public sealed record SandboxOptions(
    string SocketGroup,
    string JobUser,
    string Python,
    int MaxConcurrentJobs,
    int QueueLength,
    int WarmJobs,
    TimeSpan Timeout,
    TimeSpan Cpu,
    int MemoryMiB,
    int MaxTasks,
    int MaxOpenFiles,
    int WorkspaceMiB,
    int OutputKiB)
{
    public SandboxOptions()
        : this("", "boxbot-sandbox", "/usr/bin/python3", 2, 16, 2, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), 256, 64, 64, 64, 64) { }

    public static SandboxOptions Default { get; } = new();
}

/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
public sealed record PerceptionOptions(string SocketGroup)
{
    public PerceptionOptions() : this("") { }

    public static PerceptionOptions Default { get; } = new();
}

/// <summary>The WhatsApp webhook listener (<c>[webhook]</c>).</summary>
/// <param name="ListenAddress">Address the HTTP listener binds; loopback because TLS ends at a reverse proxy or tunnel.</param>
/// <param name="Port">TCP port; 0 picks a free port (tests).</param>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
public sealed record WebhookOptions(IPAddress ListenAddress, int Port, string SocketGroup)
{
    public WebhookOptions() : this(IPAddress.Loopback, 8443, "") { }

    public static WebhookOptions Default { get; } = new();
}

/// <summary>The plugin host and its NATS mesh connection (<c>[plugin-host]</c>).</summary>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
/// <param name="MeshUrl">NATS server (<c>nats://</c> or <c>tls://</c>); null when the mesh is disabled.</param>
/// <param name="MeshUser">NATS user; its password is the credential <c>mesh-password</c>, never in the TOML.</param>
public sealed record PluginHostOptions(string SocketGroup, Uri? MeshUrl, string MeshUser)
{
    public PluginHostOptions() : this("", null, "") { }

    public static PluginHostOptions Default { get; } = new();
}
