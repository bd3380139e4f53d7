namespace BoxBot.Mesh.Broker;

/// <summary>
/// Where the household broker's keys and configuration live. <see cref="StateDir"/> is private to the daemon that mints
/// credentials (the plugin host; mode 0700): the operator's and accounts' seeds, the CA's key, the users. <see cref="ConfigDir"/>
/// is what nats-server reads (the plugin host writes it, the broker's group reads it): its configuration, the public JWTs
/// of the operator and accounts, the TLS certificate.
/// </summary>
public sealed record BrokerPaths(string StateDir, string ConfigDir, string PidFile)
{
    /// <summary>
    /// Installed: the plugin host's <c>/var/lib/boxbot-plugins/mesh</c>, the broker's <c>/var/lib/boxbot-nats/config</c>
    /// and <c>/run/boxbot-nats/nats.pid</c>; in development the same under <c>$BOXBOT_HOME/state</c>.
    /// </summary>
    public static BrokerPaths For(BoxBot.Config.BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var broker = Path.Combine(paths.StateRoot, BoxBot.Contracts.InstallLayout.BrokerUser);
        return new BrokerPaths(
            Path.Combine(paths.StateDir(BoxBot.Contracts.Daemons.PluginHost), "mesh"),
            Path.Combine(broker, "config"),
            paths.IsDevelopment ? Path.Combine(broker, "nats.pid") : "/run/boxbot-nats/nats.pid");
    }

    public string OperatorSeed => Path.Combine(StateDir, "operator.seed");

    public string AccountSeed => Path.Combine(StateDir, "account.seed");

    public string SystemAccountSeed => Path.Combine(StateDir, "system-account.seed");

    public string CaKey => Path.Combine(StateDir, "ca.key");

    public string Users => Path.Combine(StateDir, "users.json");

    /// <summary>The broker's configuration (nats-server <c>-c</c>).</summary>
    public string Config => Path.Combine(ConfigDir, "nats.conf");

    /// <summary>The account JWTs the broker preloads (rewritten at each revocation, then the broker reloads).</summary>
    public string Accounts => Path.Combine(ConfigDir, "accounts.conf");

    public string OperatorJwt => Path.Combine(ConfigDir, "operator.jwt");

    public string CaCertificate => Path.Combine(ConfigDir, "ca.crt");

    public string ServerCertificate => Path.Combine(ConfigDir, "server.crt");

    public string ServerKey => Path.Combine(ConfigDir, "server.key");

    /// <summary>The URL clients on this box use to reach the broker (one line), written with the configuration.</summary>
    public string ClientUrl => Path.Combine(ConfigDir, "client-url");
}

/// <summary>How the broker listens: <paramref name="Port"/> on loopback, or on every address with TLS required when <paramref name="Lan"/>.</summary>
/// <param name="Names">The DNS names the server certificate covers beside localhost and the loopback addresses (the box's host names).</param>
public sealed record BrokerListen(int Port, bool Lan, IReadOnlyList<string> Names);
