using System.CommandLine;
using System.Net;
using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.Linux;
using BoxBot.Mesh;
using BoxBot.Mesh.Broker;

namespace BoxBot.Cli.Mesh;

internal static class MeshInitCommand
{
    public static Command Create()
    {
        var command = new Command("init",
            "Set up the household broker (mesh.broker = \"local\"): the operator's and account's keys, the box's CA and the broker's certificate " +
            "(what is missing), and the broker's configuration from [mesh]. Keeps existing keys and users. The package runs it at install; " +
            "run it again (as root) after changing mesh.port or mesh.listen_lan, then restart boxbot-nats.");
        command.SetAction(_ =>
        {
            var paths = BoxPaths.FromEnvironment();
            BoxBotConfig config;
            try
            {
                config = ConfigLoader.Load(paths.ConfigFile).Config;
            }
            catch (ConfigException e)
            {
                return Failures.Fail(e.Message);
            }
            if (config.Mesh.Broker != MeshBroker.Local)
            {
                return Failures.Refused($"mesh.broker is \"{config.Mesh.Broker.ToString().ToLowerInvariant()}\": the box runs no broker of its own to set up");
            }
            if (!paths.IsDevelopment && LinuxProcess.EffectiveUid != 0)
            {
                return Failures.Refused("`boxbot mesh init` writes the broker's keys and configuration as their owners: run it as root (sudo)");
            }
            try
            {
                var (changed, brokerPaths) = Run(paths, config.Mesh);
                Console.WriteLine($"mesh: the household broker of {config.Mesh.EffectiveBoxId} (tenant {config.Mesh.Tenant}) is set up");
                Console.WriteLine($"  keys and users: {brokerPaths.StateDir}");
                Console.WriteLine($"  broker configuration: {brokerPaths.Config}{(changed ? " (changed)" : " (unchanged)")}");
                if (changed && !paths.IsDevelopment)
                {
                    Console.WriteLine("  restart the broker for it to take effect: sudo systemctl restart boxbot-nats");
                }
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or MeshException or ArgumentException)
            {
                return Failures.Fail("mesh init: " + e.Message);
            }
        });
        return command;
    }

    /// <summary>
    /// Initializes the household broker for <paramref name="settings"/> (also `boxbot dev up`); installed and as root, gives the
    /// files their owners: the keys to the plugin host's user, the configuration to it with the broker's group (setgid, so
    /// what the plugin host rewrites stays readable to the broker). Returns whether nats.conf changed.
    /// </summary>
    public static (bool Changed, BrokerPaths Paths) Run(BoxPaths paths, MeshSettings settings)
    {
        var brokerPaths = BrokerPaths.For(paths);
        var host = Dns.GetHostName().ToLowerInvariant();
        var listen = new BrokerListen(settings.Port, settings.ListenLan, [host, host + ".local"]);
        var changed = BrokerAuthority.Initialize(brokerPaths, new MeshIdentity(settings.Tenant, settings.EffectiveBoxId), listen, TimeProvider.System);
        if (!paths.IsDevelopment && LinuxProcess.EffectiveUid == 0)
        {
            var plugins = UnixAccounts.LookupUser(BoxBot.Contracts.Daemons.PluginHost.ServiceUser)
                ?? throw new IOException($"the user {BoxBot.Contracts.Daemons.PluginHost.ServiceUser} does not exist (is the package installed?)");
            var broker = UnixAccounts.LookupGid(BoxBot.Contracts.InstallLayout.BrokerUser)
                ?? throw new IOException($"the group {BoxBot.Contracts.InstallLayout.BrokerUser} does not exist (is the package installed?)");
            Own(brokerPaths.StateDir, plugins.Uid, plugins.Gid);
            Own(brokerPaths.ConfigDir, plugins.Uid, broker);
            File.SetUnixFileMode(brokerPaths.ConfigDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.SetGroup);
        }
        return (changed, brokerPaths);
    }

    private static void Own(string folder, uint uid, uint gid)
    {
        LinuxFile.ChangeOwner(folder, uid, gid);
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            LinuxFile.ChangeOwner(file, uid, gid);
        }
    }
}
