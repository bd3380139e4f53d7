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
/// <remarks>The language model is <see cref="Llm"/> (<c>[agent.llm]</c>), a member rather than a constructor parameter so
/// that code building the package settings alone keeps compiling.</remarks>
public sealed record AgentOptions(string SocketGroup, Uri? PackageIndexUrl, string PackageFindLinks)
{
    public AgentOptions() : this("", new Uri("https://pypi.org/simple"), "") { }

    public static AgentOptions Default { get; } = new();

    /// <summary>The language model the agent converses with (<c>[agent.llm]</c>).</summary>
    public LlmOptions Llm { get; init; } = LlmOptions.Default;
}

/// <summary>Which wire format the agent speaks to its language model. The TOML spells it in lower case.</summary>
public enum LlmProvider
{
    /// <summary>Anthropic's Messages API (<c>POST /v1/messages</c>).</summary>
    Anthropic,

    /// <summary>OpenAI-style chat completions (<c>POST /v1/chat/completions</c>): llama.cpp's server, Ollama, vLLM and hosted look-alikes.</summary>
    OpenAi,
}

/// <summary>The agent's language model (<c>[agent.llm]</c>). Its API key is the credential <c>llm-api-key</c>, never here.</summary>
/// <param name="Provider">Wire format of the endpoint.</param>
/// <param name="Model">Model name sent with every call; <c>""</c> means no model is configured and the agent holds no conversations.</param>
/// <param name="BaseUrl">Endpoint (https; plain http only to a loopback address); null for the provider's default, which only
/// Anthropic has (<see cref="AnthropicBaseUrl"/>).</param>
/// <param name="MaxOutputTokens">Most tokens one model answer may have.</param>
/// <param name="Timeout">How long one HTTP attempt may take, answer included; retries each get their own.</param>
/// <param name="InputPricePerMTok">USD per million input tokens, for the accounting and the daily budget.</param>
/// <param name="OutputPricePerMTok">USD per million output tokens.</param>
/// <param name="DailyBudgetUsd">Most the agent spends on the model per day (UTC), by the prices above; 0 allows no turns at all.</param>
/// <param name="MaxToolTurns">Model calls one conversation turn may make (each tool round trip is one): a runaway loop stops here.</param>
public sealed record LlmOptions(
    LlmProvider Provider,
    string Model,
    Uri? BaseUrl,
    int MaxOutputTokens,
    TimeSpan Timeout,
    decimal InputPricePerMTok,
    decimal OutputPricePerMTok,
    decimal DailyBudgetUsd,
    int MaxToolTurns)
{
    public LlmOptions() : this(LlmProvider.Anthropic, "", null, 1024, TimeSpan.FromSeconds(120), 3.0m, 15.0m, 1.0m, 20) { }

    public static LlmOptions Default { get; } = new();

    /// <summary>Where Anthropic's API is when <see cref="BaseUrl"/> is not set.</summary>
    public static Uri AnthropicBaseUrl { get; } = new("https://api.anthropic.com");
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

    /// <summary>
    /// The longest a <c>sandbox.run</c> call may take: the job after waiting behind a full queue (every place ahead of it
    /// a whole job's time) plus start-up. The sandbox daemon and the agent, which relays the call, use this one figure,
    /// so a queued job is never cut off by the relay while the sandbox would still run it.
    /// </summary>
    public TimeSpan LongestRunCall => Timeout * (1 + (QueueLength + MaxConcurrentJobs - 1) / MaxConcurrentJobs) + TimeSpan.FromSeconds(30);
}

/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
public sealed record PerceptionOptions(string SocketGroup)
{
    public PerceptionOptions() : this("") { }

    public static PerceptionOptions Default { get; } = new();
}

/// <summary>The WhatsApp webhook listener (<c>[webhook]</c>), the box's only inbound network listener.</summary>
/// <param name="ListenAddress">IP address or host name the HTTP listener binds; loopback because TLS ends at a reverse proxy or tunnel.</param>
/// <param name="Port">TCP port; 0 picks a free port (tests).</param>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
/// <param name="AllowPublicBind">Lets the webhook bind an address that is not loopback (plain HTTP on the network: only behind a firewall that sends it TLS-terminated traffic).</param>
/// <param name="MaxBodyBytes">Largest delivery read; a longer body is refused with 413 without reading the rest.</param>
/// <param name="MaxConnections">Connections holding a slot at once (the ConnectionGovernor: a tenth kept for verified ones; more wait their turn).</param>
/// <param name="MaxHeaderBytes">Total size of a request's headers (and of its request line).</param>
/// <param name="HeaderTimeout">Time a client has to send its request headers; also the longest an unverified connection may sit idle.</param>
/// <param name="BodyTimeout">Time a client has to send the whole body of a delivery.</param>
/// <param name="MinBodyBytesPerSecond">Slowest body upload tolerated after a 5 s grace period; slower connections are closed.</param>
/// <param name="SenderMessagesPerMinute">Messages stored per sender per minute; more are dropped and counted (still answered 200).</param>
/// <param name="GlobalMessagesPerMinute">Messages stored per minute from all senders together; more are dropped and counted.</param>
public sealed record WebhookOptions(
    string ListenAddress,
    int Port,
    string SocketGroup,
    bool AllowPublicBind,
    int MaxBodyBytes,
    int MaxConnections,
    int MaxHeaderBytes,
    TimeSpan HeaderTimeout,
    TimeSpan BodyTimeout,
    int MinBodyBytesPerSecond,
    int SenderMessagesPerMinute,
    int GlobalMessagesPerMinute)
{
    public WebhookOptions()
        : this("127.0.0.1", 8443, "", false, 256 * 1024, 100, 16 * 1024, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), 240, 30, 600) { }

    public static WebhookOptions Default { get; } = new();
}

/// <summary>Outbound WhatsApp messages, sent by the agent through the Cloud (Graph) API (<c>[whatsapp]</c>).</summary>
/// <param name="GraphUrl">Base URL of the Graph API (https; plain http only to a loopback address, for tests).</param>
/// <param name="ApiVersion">Graph API version in the path, such as <c>v23.0</c>.</param>
/// <param name="PhoneNumberId">The business phone number's id (Meta app dashboard); <c>""</c> means nothing is sent (outbox only).</param>
/// <remarks>Who may be sent to is not configuration: only registered users (the agent's user registry).</remarks>
public sealed record WhatsAppOptions(Uri GraphUrl, string ApiVersion, string PhoneNumberId)
{
    public WhatsAppOptions() : this(new Uri("https://graph.facebook.com"), "v23.0", "") { }

    public static WhatsAppOptions Default { get; } = new();
}

/// <summary>The plugin host (<c>[plugin-host]</c>); its mesh connection is <c>[mesh]</c>.</summary>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
public sealed record PluginHostOptions(string SocketGroup)
{
    public PluginHostOptions() : this("") { }

    public static PluginHostOptions Default { get; } = new();
}

/// <summary>Plugins (<c>[plugins]</c>; docs/plugins.md).</summary>
/// <param name="MaxPlugins">How many plugins may be installed at once.</param>
/// <param name="AllowedHosts">Hosts (and their subdomains) plugins may be installed from by URL; empty: no URL installs.</param>
/// <param name="RequireDigest">URL and mesh installs must name the bundle's sha256 digest.</param>
public sealed record PluginsOptions(int MaxPlugins, IReadOnlyList<string> AllowedHosts, bool RequireDigest)
{
    public PluginsOptions() : this(32, [], true) { }

    public static PluginsOptions Default { get; } = new();

    public bool Equals(PluginsOptions? other) => other is not null && MaxPlugins == other.MaxPlugins && RequireDigest == other.RequireDigest
        && AllowedHosts.SequenceEqual(other.AllowedHosts);

    public override int GetHashCode() => HashCode.Combine(MaxPlugins, RequireDigest, AllowedHosts.Count);
}

/// <summary>Which broker the box's mesh connection uses.</summary>
public enum MeshBroker
{
    /// <summary>The box's own broker (Debian's nats-server as boxbot-nats), with users boxbot mints.</summary>
    Local,
    /// <summary>Another broker (a Device Connect portal, another box): <see cref="MeshSettings.Url"/> and a credential.</summary>
    Remote,
    /// <summary>No mesh.</summary>
    Off,
}

/// <summary>
/// The box on the Device Connect mesh (<c>[mesh]</c>; docs/mesh.md). Secrets are credentials, never here:
/// <c>mesh-creds-json</c> (a portal's <c>*.creds.json</c>), <c>mesh-creds</c> (a <c>.creds</c> file),
/// <c>mesh-password</c> (with <see cref="User"/>), <c>mesh-tls-key</c> (with <see cref="TlsCertFile"/>).
/// </summary>
/// <param name="Broker">Local (the default), remote or off.</param>
/// <param name="Url">The remote broker (<c>nats://</c> or <c>tls://</c>); null for the local one, or to take the portal credential's.</param>
/// <param name="User">A remote broker's user for password authentication.</param>
/// <param name="Tenant">The Device Connect tenant (a portal credential's tenant wins over <c>default</c>).</param>
/// <param name="BoxId">The box's device id; <c>""</c> takes the host name (see <see cref="EffectiveBoxId"/>).</param>
/// <param name="Port">The local broker's port.</param>
/// <param name="ListenLan">The local broker listens on every address, TLS required, with the box's own CA.</param>
/// <param name="AllowInsecure">Allow a plaintext or credential-less connection to a broker off this machine.</param>
/// <param name="CaFile">The CA a remote broker's certificate must chain to (required for <c>tls://</c>).</param>
/// <param name="TlsCertFile">A client certificate for a remote broker that requires one; its key is the credential <c>mesh-tls-key</c>.</param>
/// <param name="CallTimeout">How long a call to a device may take by default.</param>
/// <param name="NotifyPerMinute">How many <c>notify</c> calls one device may make per minute.</param>
public sealed record MeshSettings(MeshBroker Broker, Uri? Url, string User, string Tenant, string BoxId, int Port, bool ListenLan,
    bool AllowInsecure, string CaFile, string TlsCertFile, TimeSpan CallTimeout, int NotifyPerMinute)
{
    public MeshSettings() : this(MeshBroker.Local, null, "", "default", "", 4222, false, false, "", "", TimeSpan.FromSeconds(5), 10) { }

    public static MeshSettings Default { get; } = new();

    /// <summary>Calls per minute the box's devices answer from one caller (its reply inbox); more are refused.</summary>
    public int CallsPerCallerPerMinute { get; init; } = 120;

    /// <summary>Calls per minute the box's devices answer from everyone together.</summary>
    public int CallsPerMinute { get; init; } = 1200;

    /// <summary>What the agent may call, by the role of whoever is talking to it (<c>[mesh.policy.admin]</c>, <c>.user</c>, <c>.device</c>).</summary>
    public MeshPolicy AdminPolicy { get; init; } = MeshPolicy.Empty;

    public MeshPolicy UserPolicy { get; init; } = MeshPolicy.Empty;

    /// <summary>For conversations a device's <c>notify</c> started: their text is untrusted, so this is empty unless the admin fills it.</summary>
    public MeshPolicy DevicePolicy { get; init; } = MeshPolicy.Empty;

    /// <summary><see cref="BoxId"/>, or the host name made into a device id (lower case; other characters become '-').</summary>
    public string EffectiveBoxId => BoxId.Length > 0 ? BoxId : FromHostName(Environment.MachineName);

    /// <summary>
    /// Why connecting to <paramref name="url"/> would be unsafe, or null: off this machine the connection must be TLS and
    /// carry credentials, unless <see cref="AllowInsecure"/>. <c>boxbot doctor</c> asks the same.
    /// </summary>
    public string? ExposureProblem(Uri url, bool hasCredentials)
    {
        ArgumentNullException.ThrowIfNull(url);
        var loopback = url.IsLoopback || (System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
        if (loopback || AllowInsecure)
        {
            return null;
        }
        if (url.Scheme != "tls")
        {
            return $"mesh.url {url} is plaintext to another machine: anyone on the way reads and changes the mesh's traffic. Use tls:// with mesh.ca_file, or set mesh.allow_insecure = true if you accept that.";
        }
        return hasCredentials ? null
            : $"no mesh credentials are set for {url}: a broker that admits anonymous clients lets anyone act on the mesh. Set mesh-creds-json, mesh-creds or mesh.user with mesh-password, or mesh.allow_insecure = true.";
    }

    /// <summary>The policy for <paramref name="role"/> (<c>admin</c>, <c>user</c>, <c>device</c>); empty for any other.</summary>
    public MeshPolicy PolicyFor(string role) => role switch
    {
        "admin" => AdminPolicy,
        "user" => UserPolicy,
        "device" => DevicePolicy,
        _ => MeshPolicy.Empty,
    };

    internal static string FromHostName(string host)
    {
        var id = new string([.. host.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-')]).Trim('-');
        id = id.Length > 58 ? id[..58] : id;
        return id.Length == 0 ? "boxbot" : id;
    }
}

/// <summary>Rules of the form <c>device.function</c> or <c>device.*</c>: deny wins over ask, ask over allow; anything unlisted is denied.</summary>
public sealed record MeshPolicy(IReadOnlyList<string> Allow, IReadOnlyList<string> Ask, IReadOnlyList<string> Deny)
{
    public static MeshPolicy Empty { get; } = new([], [], []);

    // By the rules, not by the lists' identities (a loaded policy equals the same rules written by hand).
    public bool Equals(MeshPolicy? other) =>
        other is not null && Allow.SequenceEqual(other.Allow) && Ask.SequenceEqual(other.Ask) && Deny.SequenceEqual(other.Deny);

    public override int GetHashCode() => HashCode.Combine(Allow.Count, Ask.Count, Deny.Count);

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Allow = [").AppendJoin(", ", Allow).Append("], Ask = [").AppendJoin(", ", Ask).Append("], Deny = [").AppendJoin(", ", Deny).Append(']');
        return true;
    }

    /// <summary><c>allow</c>, <c>ask</c> or <c>deny</c> for calling <paramref name="function"/> of <paramref name="device"/>.</summary>
    public string Decide(string device, string function) =>
        Matches(Deny, device, function) ? "deny"
        : Matches(Ask, device, function) ? "ask"
        : Matches(Allow, device, function) ? "allow"
        : "deny";

    private static bool Matches(IReadOnlyList<string> rules, string device, string function) =>
        rules.Any(rule => rule == $"{device}.{function}" || rule == $"{device}.*");
}
