using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace BoxBot.Config.Internal;

/// <summary>Checks the values of a type-correct <see cref="ConfigFile"/> and maps it to the runtime options.</summary>
internal sealed partial class ConfigBinder(
    string source,
    ConfigSchema schema,
    IReadOnlyDictionary<string, (int Line, int Column)> valueAt,
    List<ConfigError> errors)
{
    private const string GroupRule = "lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 32 characters";

    public static string Format(LogLevelSetting level) => level.ToString().ToLowerInvariant();

    public static string Format(LlmProvider provider) => provider.ToString().ToLowerInvariant();

    public BoxBotConfig Bind(ConfigFile f) => new()
    {
        Box = new BoxOptions(
            LogLevel("box.log_level", f.Box.LogLevel),
            Group("box.admin_group", f.Box.AdminGroup, allowEmpty: false)),
        Ipc = new IpcOptions(
            TimeSpan.FromMilliseconds(Int("ipc.request_timeout_ms", f.Ipc.RequestTimeoutMs, 100, 600_000)),
            Int("ipc.max_connections", f.Ipc.MaxConnections, 1, 1024)),
        Agent = new AgentOptions(
            Group("agent.socket_group", f.Agent.SocketGroup),
            PackageIndex("agent.package_index_url", f.Agent.PackageIndexUrl),
            OptionalAbsolutePath("agent.package_find_links", f.Agent.PackageFindLinks, "/var/lib/boxbot/wheels"))
        {
            Llm = Llm(f.Agent.Llm),
        },
        Sandbox = new SandboxOptions(
            Group("sandbox.socket_group", f.Sandbox.SocketGroup),
            User("sandbox.job_user", f.Sandbox.JobUser),
            AbsolutePath("sandbox.python", f.Sandbox.Python),
            Int("sandbox.max_concurrent_jobs", f.Sandbox.MaxConcurrentJobs, 1, 16),
            Int("sandbox.queue_length", f.Sandbox.QueueLength, 0, 256),
            Int("sandbox.warm_jobs", f.Sandbox.WarmJobs, 0, 16),
            TimeSpan.FromSeconds(Int("sandbox.timeout_s", f.Sandbox.TimeoutS, 1, 3600)),
            TimeSpan.FromSeconds(Int("sandbox.cpu_s", f.Sandbox.CpuS, 1, 3600)),
            Int("sandbox.memory_mib", f.Sandbox.MemoryMiB, 64, 4096),
            Int("sandbox.max_tasks", f.Sandbox.MaxTasks, 4, 1024),
            Int("sandbox.max_open_files", f.Sandbox.MaxOpenFiles, 16, 99, " (the launcher's exec descriptor is 100 and must stay above it)"),
            Int("sandbox.workspace_mib", f.Sandbox.WorkspaceMiB, 1, 4096),
            Int("sandbox.output_kib", f.Sandbox.OutputKiB, 1, 1024)),
        Webhook = new WebhookOptions(
            Address("webhook.listen_address", f.Webhook.ListenAddress),
            Int("webhook.port", f.Webhook.Port, 0, 65535, " (0 picks a free port)"),
            Group("webhook.socket_group", f.Webhook.SocketGroup),
            Bool("webhook.allow_public_bind", f.Webhook.AllowPublicBind),
            Int("webhook.max_body_bytes", f.Webhook.MaxBodyBytes, 1024, 16 * 1024 * 1024),
            Int("webhook.max_connections", f.Webhook.MaxConnections, 1, 10_000),
            Int("webhook.max_header_bytes", f.Webhook.MaxHeaderBytes, 1024, 64 * 1024),
            TimeSpan.FromSeconds(Int("webhook.header_timeout_s", f.Webhook.HeaderTimeoutS, 1, 300)),
            TimeSpan.FromSeconds(Int("webhook.body_timeout_s", f.Webhook.BodyTimeoutS, 1, 300)),
            Int("webhook.min_body_bytes_per_s", f.Webhook.MinBodyBytesPerSecond, 1, 1024 * 1024),
            Int("webhook.sender_messages_per_minute", f.Webhook.SenderMessagesPerMinute, 1, 1_000_000),
            Int("webhook.global_messages_per_minute", f.Webhook.GlobalMessagesPerMinute, 1, 10_000_000)),
        WhatsApp = new WhatsAppOptions(
            GraphUrl("whatsapp.graph_url", f.WhatsApp.GraphUrl),
            Pattern("whatsapp.api_version", f.WhatsApp.ApiVersion, ApiVersion(), "a Graph API version such as v23.0"),
            Pattern("whatsapp.phone_number_id", f.WhatsApp.PhoneNumberId, Digits(), "\"\" or the phone number id from the Meta app dashboard (digits)", allowEmpty: true)),
        Perception = new PerceptionOptions(Group("perception.socket_group", f.Perception.SocketGroup)),
        PluginHost = new PluginHostOptions(Group("plugin-host.socket_group", f.PluginHost.SocketGroup)),
        Mesh = Mesh(f.Mesh),
        Plugins = new PluginsOptions(
            Int("plugins.max_plugins", f.Plugins.MaxPlugins, 1, 256),
            Hosts("plugins.allowed_hosts", f.Plugins.AllowedHosts),
            Bool("plugins.require_digest", f.Plugins.RequireDigest)),
    };

    // Host names as a URL names them: letters, digits, '-' and dots; a subdomain of one is allowed too.
    private List<string> Hosts(string key, List<string> hosts)
    {
        Known(key);
        foreach (var host in hosts)
        {
            if (!HostName().IsMatch(host))
            {
                Fail(key, $"holds \"{host}\": each entry is a host name such as plugins.example.org (no scheme, port or path)");
            }
        }
        return [.. hosts.Select(h => h.ToLowerInvariant())];
    }

    public static string Format(MeshBroker broker) => broker.ToString().ToLowerInvariant();

    private MeshSettings Mesh(MeshSection m)
    {
        Known("mesh.broker");
        var broker = Enum.GetValues<MeshBroker>().FirstOrDefault(b => Format(b) == m.Broker, (MeshBroker)(-1));
        if (!Enum.IsDefined(broker))
        {
            Fail("mesh.broker", $"must be local (the box's own broker), remote (mesh.url) or off, got \"{m.Broker}\"");
            broker = MeshBroker.Off;
        }
        var url = MeshUrl("mesh.url", m.Url);
        var boxId = Pattern("mesh.box_id", m.BoxId, MeshToken58(), "\"\" (the host name) or a device id: 1-58 of A-Z, a-z, 0-9, '_' or '-'", allowEmpty: true);
        return new MeshSettings(
            broker,
            url,
            String("mesh.user", m.User),
            Pattern("mesh.tenant", m.Tenant, MeshToken(), "a tenant id: 1-64 of A-Z, a-z, 0-9, '_' or '-'"),
            boxId,
            Int("mesh.port", m.Port, 1, 65535),
            Bool("mesh.listen_lan", m.ListenLan),
            Bool("mesh.allow_insecure", m.AllowInsecure),
            OptionalAbsolutePath("mesh.ca_file", m.CaFile, "/etc/boxbot/mesh-ca.pem"),
            OptionalAbsolutePath("mesh.tls_cert_file", m.TlsCertFile, "/etc/boxbot/mesh-client.pem"),
            TimeSpan.FromMilliseconds(Int("mesh.call_timeout_ms", m.CallTimeoutMs, 100, 60_000)),
            Int("mesh.notify_per_minute", m.NotifyPerMinute, 1, 600))
        {
            CallsPerCallerPerMinute = Int("mesh.calls_per_caller_per_minute", m.CallsPerCallerPerMinute, 1, 60_000),
            CallsPerMinute = Int("mesh.calls_per_minute", m.CallsPerMinute, 1, 600_000),
            AdminPolicy = Policy("mesh.policy.admin", m.Policy.Admin),
            UserPolicy = Policy("mesh.policy.user", m.Policy.User),
            DevicePolicy = Policy("mesh.policy.device", m.Policy.Device),
        };
    }

    private MeshPolicy Policy(string section, MeshPolicySection p) =>
        new(Rules(section + ".allow", p.Allow), Rules(section + ".ask", p.Ask), Rules(section + ".deny", p.Deny));

    // device.function or device.*: the device a subject token, the function a name (plugin functions hold a dot).
    private List<string> Rules(string key, List<string> rules)
    {
        Known(key);
        foreach (var rule in rules)
        {
            var dot = rule.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !MeshToken().IsMatch(rule[..dot]) || !PolicyFunction().IsMatch(rule[(dot + 1)..]))
            {
                Fail(key, $"holds \"{rule}\": each rule is DEVICE.FUNCTION or DEVICE.* (a device id, a dot, a function name or *)");
            }
        }
        return rules;
    }

    private LogLevelSetting LogLevel(string key, string value)
    {
        Known(key);
        foreach (var level in Enum.GetValues<LogLevelSetting>())
        {
            if (Format(level) == value)
            {
                return level;
            }
        }

        Fail(key, $"must be one of {string.Join(", ", Enum.GetValues<LogLevelSetting>().Select(Format))}, got \"{value}\"");
        return BoxOptions.Default.LogLevel;
    }

    private string Group(string key, string value, bool allowEmpty = true)
    {
        Known(key);
        if (value.Length == 0 && allowEmpty)
        {
            return value;
        }

        if (!GroupName().IsMatch(value))
        {
            Fail(key, allowEmpty
                ? $"must be a Unix group name ({GroupRule}) or \"\" to keep the daemon's own group, got \"{value}\""
                : $"must be a Unix group name ({GroupRule}), got \"{value}\"");
        }

        return value;
    }

    private string User(string key, string value)
    {
        Known(key);
        if (!GroupName().IsMatch(value))
        {
            Fail(key, $"must be a Unix user name ({GroupRule}), got \"{value}\"");
        }
        else if (value == "root")
        {
            Fail(key, "must not be root: sandbox jobs never run as root");
        }

        return value;
    }

    private string AbsolutePath(string key, string value)
    {
        Known(key);
        if (!Path.IsPathFullyQualified(value) || value.Contains("/../", StringComparison.Ordinal) || value.EndsWith("/..", StringComparison.Ordinal))
        {
            Fail(key, $"must be an absolute path such as /usr/bin/python3, got \"{value}\"");
        }

        return value;
    }

    private string OptionalAbsolutePath(string key, string value, string example)
    {
        Known(key);
        if (value.Length > 0 && (!Path.IsPathFullyQualified(value) || value.Split('/').Contains("..")))
        {
            Fail(key, $"must be \"\" or an absolute path such as {example}, got \"{value}\"");
        }

        return value;
    }

    // pip talks to the index before any human has seen what it offers: only https, or plain http to this machine
    // (a local mirror), and no credentials in a file that many can read.
    private Uri? PackageIndex(string key, string value)
    {
        Known(key);
        if (value.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.Host.Length == 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0)
        {
            Fail(key, $"must be \"\" (no index) or an https:// URL of a package index such as https://pypi.org/simple, got \"{value}\"");
            return null;
        }

        if (uri.UserInfo.Length > 0)
        {
            // Never echo the value: it holds what looks like a password.
            Fail(key, "must not contain a user or password");
            return null;
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            Fail(key, $"must use https:// (plain http:// only to a loopback address such as 127.0.0.1), got \"{value}\"");
            return null;
        }

        return uri;
    }

    private int Int(string key, long value, int min, int max, string hint = "")
    {
        Known(key);
        if (value < min || value > max)
        {
            Fail(key, $"must be between {min} and {max}{hint}, got {value}");
            return min;
        }

        return (int)value;
    }

    // A literal IP or a host name: whether it is loopback is the webhook's bind guard to decide at start (a name
    // resolves then), so `config check` never does DNS.
    private string Address(string key, string value)
    {
        Known(key);
        // IPAddress.TryParse also takes "127.1" and "2130706433"; only the usual spellings are accepted.
        if (IPAddress.TryParse(value, out var address))
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 || value.Count(c => c == '.') == 3)
            {
                return value;
            }
        }
        else if (Uri.CheckHostName(value) == UriHostNameType.Dns && value.Length <= 253 && value.Any(char.IsAsciiLetter))
        {
            return value;
        }

        Fail(key, $"must be an IP address such as 127.0.0.1 or ::1, or a host name such as localhost, got \"{value}\"");
        return WebhookOptions.Default.ListenAddress;
    }

    // The access token goes to this URL with every message: https only, or plain http to this machine (a test server).
    private Uri GraphUrl(string key, string value) =>
        Url(key, value, "an https:// URL such as https://graph.facebook.com", "a test server") ?? WhatsAppOptions.Default.GraphUrl;

    /// <summary>
    /// An endpoint a secret is sent to: https only, or plain http to this machine (<paramref name="loopbackUse"/> says what
    /// would listen there), without user info, query or fragment. Null when refused.
    /// </summary>
    private Uri? Url(string key, string value, string expected, string loopbackUse)
    {
        Known(key);
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.Host.Length == 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            Fail(key, $"must be {expected}, got \"{value}\"");
            return null;
        }

        if (uri.UserInfo.Length > 0)
        {
            // Never echo the value: it holds what looks like a password.
            Fail(key, "must not contain a user or password (secrets are credentials, never in this file)");
            return null;
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            Fail(key, $"must use https:// (plain http:// only to a loopback address, for {loopbackUse}), got \"{value}\"");
            return null;
        }

        return uri;
    }

    private string Pattern(string key, string value, Regex pattern, string expected, bool allowEmpty = false)
    {
        Known(key);
        if ((value.Length > 0 || !allowEmpty) && !pattern.IsMatch(value))
        {
            Fail(key, $"must be {expected}, got \"{value}\"");
        }

        return value;
    }

    private bool Bool(string key, bool value)
    {
        Known(key);
        return value;
    }

    private Uri? MeshUrl(string key, string value)
    {
        Known(key);
        if (value.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != "nats" && uri.Scheme != "tls")
            || uri.Host.Length == 0)
        {
            Fail(key, $"must be \"\" (the local broker, or the portal credential's URL) or an absolute nats:// or tls:// URL such as tls://mesh.example.org:4222, got \"{value}\"");
            return null;
        }

        if (uri.UserInfo.Length > 0)
        {
            // Never echo the value here: it holds what looks like a password.
            Fail(key, "must not contain a user or password: set mesh.user, and put the password in the credential mesh-password");
            return null;
        }

        return uri;
    }

    private string String(string key, string value)
    {
        Known(key);
        return value;
    }

    private void Fail(string key, string message) => Fail(key, key, message);

    /// <summary>An error about <paramref name="key"/>, placed at the value of <paramref name="placeKey"/>.</summary>
    private void Fail(string key, string placeKey, string message)
    {
        var (line, column) = valueAt.TryGetValue(placeKey, out var at) ? at : (0, 0);
        errors.Add(new ConfigError(source, line, column, key, message));
    }

    // Every key the binder reads must exist in the schema: a misspelt name here fails every load, not silently.
    private void Known(string key)
    {
        if (!schema.Contains(key))
        {
            throw new InvalidOperationException($"ConfigBinder reads '{key}', which the config model does not define");
        }
    }

    [GeneratedRegex("^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex HostName();

    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex GroupName();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex MeshToken();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,58}$", RegexOptions.CultureInvariant)]
    private static partial Regex MeshToken58();

    [GeneratedRegex("^(\\*|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", RegexOptions.CultureInvariant)]
    private static partial Regex PolicyFunction();

    [GeneratedRegex("^v[0-9]{1,3}\\.[0-9]{1,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex ApiVersion();

    [GeneratedRegex("^[0-9]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
