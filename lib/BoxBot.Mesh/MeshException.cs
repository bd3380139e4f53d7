namespace BoxBot.Mesh;

/// <summary>What went wrong talking to the mesh, for callers that react differently to each.</summary>
public enum MeshErrorKind
{
    /// <summary>The broker could not be reached (refused, unresolvable, timed out).</summary>
    Unreachable,
    /// <summary>The broker refused the credentials.</summary>
    AuthenticationFailed,
    /// <summary>Nobody subscribes to the request subject.</summary>
    NoResponders,
    /// <summary>No reply arrived in time.</summary>
    Timeout,
    /// <summary>Any other protocol or connection failure.</summary>
    Failed,
}

/// <summary>A mesh operation failed. The message never contains a password or token.</summary>
public sealed class MeshException : Exception
{
    public MeshException(MeshErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public MeshErrorKind Kind { get; }
}
