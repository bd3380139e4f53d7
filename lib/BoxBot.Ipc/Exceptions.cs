using BoxBot.Contracts;

namespace BoxBot.Ipc;

/// <summary>Something went wrong with the local socket itself (not with a method). Messages name the socket path.</summary>
public class IpcException : Exception
{
    public IpcException(string message)
        : base(message)
    {
    }

    public IpcException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The socket the failure is about, when known.</summary>
    public string? SocketPath { get; init; }
}

/// <summary>Why <see cref="JsonRpcClient.ConnectAsync"/> failed.</summary>
public enum IpcConnectFailure
{
    /// <summary>Nothing exists at the socket path: the daemon is not running or the path is wrong.</summary>
    SocketMissing,
    /// <summary>The socket file exists but nobody is listening: the daemon stopped without cleaning up.</summary>
    ConnectionRefused,
    /// <summary>The socket's file mode or its directory does not let this user connect.</summary>
    PermissionDenied,
    Other,
}

/// <summary>The client could not connect to the socket.</summary>
public sealed class IpcConnectException : IpcException
{
    public IpcConnectException(string message, IpcConnectFailure reason, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    public IpcConnectFailure Reason { get; }
}

/// <summary>A call got no reply within its client-side timeout (the server was asked to cancel it).</summary>
public sealed class IpcTimeoutException : IpcException
{
    public IpcTimeoutException(string message, string method, TimeSpan timeout)
        : base(message)
    {
        Method = method;
        Timeout = timeout;
    }

    public string Method { get; }

    public TimeSpan Timeout { get; }
}

/// <summary>
/// A JSON-RPC error. Handlers throw it to reply with <see cref="Code"/> and the message; the client
/// throws it when the server replied with an error. Codes are in <see cref="RpcErrorCodes"/>.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(int code, string message)
        : base(message) => Code = code;

    public int Code { get; }
}
