using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting;

/// <summary>Everything a daemon service is handed at start.</summary>
public sealed class DaemonContext
{
    internal DaemonContext(DaemonInfo daemon, BoxPaths paths, LoadedConfig config, ILoggerFactory loggers, ILoggerProvider logProvider, JsonRpcServer server)
    {
        Daemon = daemon;
        Paths = paths;
        LoadedConfig = config;
        Loggers = loggers;
        LogProvider = logProvider;
        Server = server;
        Operators = CallerPolicy.Of(Principal.Root, Principal.Self, Principal.Group(config.Config.Box.AdminGroup));
    }

    public DaemonInfo Daemon { get; }
    public BoxPaths Paths { get; }
    public LoadedConfig LoadedConfig { get; }
    public BoxBotConfig Config => LoadedConfig.Config;
    public ILoggerFactory Loggers { get; }

    /// <summary>The journald sink, for components that build their own logging pipeline (Kestrel's host).</summary>
    public ILoggerProvider LogProvider { get; }

    /// <summary>The control socket's server; map the daemon's own methods on it during start.</summary>
    public JsonRpcServer Server { get; }

    /// <summary>Root, the daemon's own uid and the admin group: who may read status.</summary>
    public CallerPolicy Operators { get; }

    /// <summary>This daemon's state folder (created on demand by the service that needs it).</summary>
    public string StateDir => Paths.StateDir(Daemon);

    /// <summary>Secrets for this daemon, from systemd credentials or the development folder.</summary>
    public CredentialStore Credentials => _credentials ??= CredentialStore.FromEnvironment(Paths);

    private CredentialStore? _credentials;
}
