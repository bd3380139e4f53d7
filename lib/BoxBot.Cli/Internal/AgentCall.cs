using System.Text.Json.Serialization.Metadata;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Cli.Internal;

/// <summary>One call to the agent's socket, with every failure turned into a message for the person at the keyboard.</summary>
internal static class AgentCall
{
    public static async Task<(TResult? Result, int ExitCode)> CallAsync<TParams, TResult>(string method, TParams parameters,
        JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResult : class
    {
        var paths = BoxPaths.FromEnvironment();
        var config = CommonOptions.LoadForClient(paths);
        var socket = paths.SocketPath(Daemons.Agent);
        try
        {
            await using var client = await JsonRpcClient.ConnectAsync(socket, cancellationToken);
            return (await client.CallAsync(method, parameters, paramsType, resultType, timeout ?? config.Ipc.RequestTimeout, cancellationToken), ExitCodes.Ok);
        }
        catch (IpcConnectException e)
        {
            return Fail<TResult>($"the agent is not reachable: {e.Message}");
        }
        catch (IpcTimeoutException)
        {
            return Fail<TResult>($"the agent did not answer {method} in time");
        }
        catch (RpcException e) when (e.Code == RpcErrorCodes.Unauthorized)
        {
            return Fail<TResult>($"refused: {e.Message} (this needs root or the admin group)");
        }
        catch (RpcException e)
        {
            return Fail<TResult>($"{RpcErrorCodes.Describe(e.Code)}: {e.Message}");
        }
        catch (IpcException e)
        {
            return Fail<TResult>(e.Message);
        }
    }

    private static (TResult? Result, int ExitCode) Fail<TResult>(string message)
        where TResult : class
    {
        Console.Error.WriteLine("boxbot: " + message);
        return (null, ExitCodes.Failure);
    }
}
