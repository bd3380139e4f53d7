using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Sandbox.Service;

/// <summary>How the runner's refusals reach a caller, the same for jobs and plugins.</summary>
internal static class SandboxFaults
{
    /// <summary>Busy stays Busy, a bad request is InvalidParams, anything else the sandbox could not do (<paramref name="what"/>) is Unavailable.</summary>
    public static RpcException ToRpc(SandboxException e, string what) => e switch
    {
        SandboxBusyException => new RpcException(RpcErrorCodes.Busy, e.Message),
        SandboxRequestException => new RpcException(RpcErrorCodes.InvalidParams, e.Message),
        _ => new RpcException(RpcErrorCodes.Unavailable, $"the sandbox could not {what}: " + e.Message),
    };
}
