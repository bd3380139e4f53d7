using BoxBot.Contracts;

namespace BoxBot.Agent;

/// <summary>
/// A package request or install that cannot go ahead: pip failed or timed out, the resolution names something that
/// may not be installed (not a wheel, no sha256, an unusable name), or the venv cannot be written. The message is
/// for the admin and never holds anything secret; <see cref="Code"/> is the JSON-RPC error a caller gets for it.
/// </summary>
public sealed class PackageException : Exception
{
    /// <param name="message">What went wrong, said for the admin.</param>
    /// <param name="code">
    /// <see cref="RpcErrorCodes.Upstream"/> (the default: pip or the index failed), <see cref="RpcErrorCodes.Refused"/>
    /// (the box's rules refuse what pip found) or <see cref="RpcErrorCodes.Unavailable"/> (this box cannot run pip).
    /// </param>
    public PackageException(string message, int code = RpcErrorCodes.Upstream)
        : base(message) => Code = code;

    public PackageException(string message, Exception? innerException)
        : base(message, innerException) => Code = RpcErrorCodes.Upstream;

    public int Code { get; }
}
