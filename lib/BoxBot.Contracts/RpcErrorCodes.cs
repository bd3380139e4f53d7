namespace BoxBot.Contracts;

/// <summary>
/// Every JSON-RPC error code boxbot sends, in one place. The standard codes come from the
/// JSON-RPC 2.0 specification; project codes live in -32000..-32099 (reserved for servers).
/// </summary>
public static class RpcErrorCodes
{
    /// <summary>The frame was not valid UTF-8 JSON.</summary>
    public const int ParseError = -32700;
    /// <summary>Valid JSON but not a JSON-RPC 2.0 request object.</summary>
    public const int InvalidRequest = -32600;
    /// <summary>No such method on this socket.</summary>
    public const int MethodNotFound = -32601;
    /// <summary>Params missing, of the wrong shape, or out of range.</summary>
    public const int InvalidParams = -32602;
    /// <summary>The handler failed unexpectedly; details are in the server's log, not the reply.</summary>
    public const int InternalError = -32603;

    /// <summary>The calling peer (by SO_PEERCRED uid/gid) may not call this method.</summary>
    public const int Unauthorized = -32001;
    /// <summary>The method did not finish within its server-side time limit.</summary>
    public const int Timeout = -32002;
    /// <summary>The server is at capacity (connections, a job queue, pending approvals); try again later.</summary>
    public const int Busy = -32003;
    /// <summary>The server is shutting down and takes no new requests.</summary>
    public const int ShuttingDown = -32004;
    /// <summary>The request was cancelled by the caller.</summary>
    public const int Cancelled = -32005;
    /// <summary>Another daemon this method needs (for example the sandbox, for the agent) is not reachable or not able to serve.</summary>
    public const int Unavailable = -32006;
    /// <summary>The request is well-formed and the caller may make it, but the box's rules refuse it (for example a recipient who is not a registered user).</summary>
    public const int Refused = -32007;
    /// <summary>A service beyond the box (the WhatsApp Graph API, an LLM provider) refused or failed the request; the message says what it answered.</summary>
    public const int Upstream = -32008;
    /// <summary>The thing the request names (a registered user, a blocked sender) does not exist.</summary>
    public const int NotFound = -32009;

    public static string Describe(int code) => code switch
    {
        ParseError => "parse error",
        InvalidRequest => "invalid request",
        MethodNotFound => "method not found",
        InvalidParams => "invalid params",
        InternalError => "internal error",
        Unauthorized => "unauthorized",
        Timeout => "timeout",
        Busy => "busy",
        ShuttingDown => "shutting down",
        Cancelled => "cancelled",
        Unavailable => "unavailable",
        Refused => "refused",
        Upstream => "upstream error",
        NotFound => "not found",
        _ => "error " + code,
    };
}
