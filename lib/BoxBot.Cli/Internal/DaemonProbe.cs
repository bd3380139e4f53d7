using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Cli.Internal;

/// <summary>Asks one daemon for <c>system.status</c> and turns every way that can fail into a report line, never an exception.</summary>
internal static class DaemonProbe
{
    public static async Task<DaemonStatusReport> ProbeAsync(DaemonInfo daemon, BoxPaths paths, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = paths.SocketPath(daemon);
        try
        {
            await using var client = await JsonRpcClient.ConnectAsync(socket, cancellationToken);
            var status = await client.CallAsync(SystemMethods.Status, new EmptyParams(),
                ContractsJsonContext.Default.EmptyParams, ContractsJsonContext.Default.SystemStatus, timeout, cancellationToken);
            return new DaemonStatusReport
            {
                Name = daemon.Name,
                Up = true,
                Pid = status.Pid,
                Uid = status.Uid,
                Version = status.Version,
                UptimeSeconds = status.UptimeSeconds,
                ConfigPath = status.ConfigPath,
                Socket = socket,
                Details = status.Details,
            };
        }
        catch (IpcConnectException e) when (e.Reason == IpcConnectFailure.PermissionDenied)
        {
            return Down(daemon, socket, $"refused: this user may not connect to {socket} (permission denied by the socket or its folder " +
                $"{paths.RuntimeDir}): run as root or as a member of the socket's group");
        }
        catch (IpcConnectException e)
        {
            return Down(daemon, socket, "not reachable: " + e.Message);
        }
        catch (IpcTimeoutException)
        {
            return Down(daemon, socket, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (RpcException e) when (e.Code == RpcErrorCodes.Unauthorized)
        {
            return Down(daemon, socket, $"refused: {e.Message} (status needs root or the admin group)");
        }
        catch (RpcException e)
        {
            return Down(daemon, socket, $"error {e.Code}: {e.Message}");
        }
        catch (IpcException e)
        {
            return Down(daemon, socket, e.Message);
        }
    }

    public static Task<DaemonStatusReport[]> ProbeAllAsync(BoxPaths paths, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.WhenAll(Daemons.All.Select(d => ProbeAsync(d, paths, timeout, cancellationToken)));

    private static DaemonStatusReport Down(DaemonInfo daemon, string socket, string error) =>
        new() { Name = daemon.Name, Up = false, Socket = socket, Error = error };
}
