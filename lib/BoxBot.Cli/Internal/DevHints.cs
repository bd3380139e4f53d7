using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Cli.Internal;

/// <summary>
/// What to tell someone whose daemon is not where the CLI looked: the CLI looks in one place ($BOXBOT_HOME, else the
/// installed /run/boxbot), and the commonest slip is a development box running in ./.boxbot-dev without BOXBOT_HOME set.
/// </summary>
internal static class DevHints
{
    /// <summary>
    /// When BOXBOT_HOME is not set and ./.boxbot-dev (the folder `make run` and `boxbot dev up` use by default) holds a
    /// daemon socket: the line that says how to point the CLI at it. Null otherwise.
    /// </summary>
    public static string? UnsetHome(BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.IsDevelopment)
        {
            return null;
        }
        var dev = Path.GetFullPath(DevLayout.DefaultFolder);
        var run = BoxPaths.UnderHome(dev);
        if (!Daemons.All.Any(d => Path.Exists(run.SocketPath(d))))
        {
            return null;
        }
        return $"BOXBOT_HOME is not set, so this looked at the installed box ({paths.RuntimeDir}); a development box has sockets in {dev}: " +
               $"export BOXBOT_HOME={dev}";
    }

    /// <summary>Why <paramref name="daemon"/> could not be reached, and the command that fixes it.</summary>
    public static string NotReachable(DaemonInfo daemon, BoxPaths paths, IpcConnectException e)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(e);
        var socket = paths.SocketPath(daemon);
        if (e.Reason is IpcConnectFailure.SocketMissing or IpcConnectFailure.ConnectionRefused && UnsetHome(paths) is { } hint)
        {
            return $"the {daemon.Name} is not running at {socket}. {hint}";
        }
        var start = paths.IsDevelopment
            ? $"start the development box with `make run` or `boxbot dev up` (with BOXBOT_HOME={paths.Home})"
            : $"start it with `sudo systemctl start {InstallLayout.Socket(daemon)}`";
        return e.Reason switch
        {
            IpcConnectFailure.SocketMissing => $"the {daemon.Name} is not running: there is no socket {socket}; {start}",
            IpcConnectFailure.ConnectionRefused => $"the {daemon.Name} is not running: nothing listens on {socket}; {start}",
            IpcConnectFailure.PermissionDenied => $"this user may not connect to the {daemon.Name}'s socket {socket} (permission denied by the socket or its folder {paths.RuntimeDir}). " +
                "Admins are members of the admin group and of group boxbot: `sudo adduser $USER boxbot-admin && sudo adduser $USER boxbot`, " +
                "then log in again; or run it with sudo",
            _ => $"the {daemon.Name} is not reachable: {e.Message}",
        };
    }
}
