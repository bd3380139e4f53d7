namespace BoxBot.Sandbox.Sdk;

/// <summary>The <c>error.code</c> values of SDK replies (JSON-RPC 2.0 codes plus the -320xx server range).</summary>
public static class SdkErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>The host refused the call (<see cref="SdkRefusedException"/>).</summary>
    public const int Refused = -32000;

    /// <summary>The job made more than <see cref="SdkOptions.MaxCalls"/> requests; the channel is closed after this reply.</summary>
    public const int TooManyCalls = -32001;

    /// <summary>A request line was longer than <see cref="SdkOptions.MaxLineBytes"/>; the channel is closed after this reply.</summary>
    public const int LineTooLong = -32002;

    /// <summary><c>output.attach</c> refused the path: outside the workspace, a symlink, not a regular file, too large, or too many attachments.</summary>
    public const int AttachmentRefused = -32010;

    // Raised by the bb package itself, never sent by the host.
    /// <summary>bb was used outside a sandbox job (no BOXBOT_SDK_FD).</summary>
    public const int NotInJob = -32050;

    /// <summary>bb lost the channel or read a reply it could not understand.</summary>
    public const int ChannelClosed = -32051;
}
