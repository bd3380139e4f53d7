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

/// <summary>The plugin host and its NATS mesh connection (<c>[plugin-host]</c>).</summary>
/// <param name="SocketGroup">Group the daemon's socket is chowned to; <c>""</c> leaves the daemon's own group.</param>
/// <param name="MeshUrl">NATS server (<c>nats://</c> or <c>tls://</c>); null when the mesh is disabled.</param>
/// <param name="MeshUser">NATS user; its password is the credential <c>mesh-password</c>, never in the TOML.</param>
public sealed record PluginHostOptions(string SocketGroup, Uri? MeshUrl, string MeshUser)
{
    public PluginHostOptions() : this("", null, "") { }

    public static PluginHostOptions Default { get; } = new();
}
