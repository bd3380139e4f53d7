using BoxBot.Contracts;

namespace BoxBot.Agent.Identity;

/// <summary>
/// A registry operation the rules refuse, with the JSON-RPC error code it is answered with
/// (<see cref="RpcErrorCodes.Refused"/>, <see cref="RpcErrorCodes.NotFound"/> or <see cref="RpcErrorCodes.InvalidParams"/>)
/// and a message for the admin who asked.
/// </summary>
public sealed class IdentityException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;

    internal static IdentityException Refused(string message) => new(RpcErrorCodes.Refused, message);

    internal static IdentityException NotFound(string message) => new(RpcErrorCodes.NotFound, message);

    internal static IdentityException Invalid(string message) => new(RpcErrorCodes.InvalidParams, message);
}
