using System.Text.Json.Serialization.Metadata;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Cli.Internal;

/// <summary>One call to a daemon's socket, with every failure reported through <see cref="Failures"/>.</summary>
internal static class AgentCall
{
    public static Task<(TResult? Result, int ExitCode)> CallAsync<TParams, TResult>(string method, TParams parameters,
        JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResult : class =>
        CallAsync(Daemons.Agent, method, parameters, paramsType, resultType, timeout, cancellationToken);

    public static async Task<(TResult? Result, int ExitCode)> CallAsync<TParams, TResult>(DaemonInfo daemon, string method, TParams parameters,
        JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResult : class
    {
        var (result, failure) = await TryCallAsync(daemon, method, parameters, paramsType, resultType, timeout, cancellationToken);
        return failure is null ? (result, ExitCodes.Ok) : (null, Failures.Report(failure));
    }

    /// <summary>The call, with a failure returned rather than reported (for a command that folds it into its own output).</summary>
    public static async Task<(TResult? Result, Failure? Failure)> TryCallAsync<TParams, TResult>(DaemonInfo daemon, string method, TParams parameters,
        JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(daemon);
        var paths = BoxPaths.FromEnvironment();
        // The configuration is read only for the default wait: a command that names its own (sandbox run, chat) does not
        // pay for parsing the TOML file on every call.
        var wait = timeout ?? CommonOptions.LoadForClient(paths).Ipc.RequestTimeout;
        var socket = paths.SocketPath(daemon);
        try
        {
            // One call, on the command's own thread: a short-lived process pays more for the async client's machinery
            // (its reader task, the socket engine's thread, pool hops) than for the call (docs/performance.md).
            await Task.CompletedTask;
            return (JsonRpcClient.CallOnce(socket, method, parameters, paramsType, resultType, wait, cancellationToken), null);
        }
        catch (IpcConnectException e)
        {
            return (null, new Failure(ExitCodes.Failure, Failures.Kinds.Unavailable, DevHints.NotReachable(daemon, paths, e)));
        }
        catch (IpcTimeoutException e)
        {
            return (null, new Failure(ExitCodes.Failure, Failures.Kinds.Timeout,
                $"the {daemon.Name} did not answer {method} within {e.Timeout.TotalSeconds:0.#} s ([ipc] request_timeout_ms sets the wait of most calls)"));
        }
        catch (RpcException e)
        {
            return (null, Failures.Classify(e.Code, e.Message, daemon.Name));
        }
        catch (IpcException e)
        {
            return (null, new Failure(ExitCodes.Failure, Failures.Kinds.Unavailable, $"the {daemon.Name} went away during {method}: {e.Message}"));
        }
    }
}
