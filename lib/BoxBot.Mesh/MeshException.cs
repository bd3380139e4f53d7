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
    /// <summary>The broker's TLS certificate was refused (not signed by the configured CA, expired, or naming another host).</summary>
    TlsRejected,
    /// <summary>The mesh is not set up, or its settings or credentials are unusable (the message says which and how to fix it).</summary>
    NotConfigured,
}

/// <summary>A mesh operation failed. The message never contains a password or token.</summary>
public sealed class MeshException : Exception
{
    public MeshException(MeshErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public MeshErrorKind Kind { get; }
}
