namespace BoxBot.Ipc;

/// <summary>Every log event id BoxBot.Ipc writes (range 1100-1199), so operators can filter on them.</summary>
public static class IpcLogEvents
{
    public const int Listening = 1100;
    public const int StaleSocketRemoved = 1101;
    public const int StoppedAccepting = 1102;
    public const int AcceptFailed = 1103;
    public const int DrainTimedOut = 1104;

    public const int ConnectionOpened = 1110;
    public const int ConnectionClosed = 1111;
    public const int ConnectionRejectedBusy = 1112;
    public const int PeerCredentialsFailed = 1113;
    public const int ConnectionFailed = 1114;

    public const int FrameTooLarge = 1120;
    public const int FrameReadTimedOut = 1121;
    public const int WriteFailed = 1122;
    public const int ParseError = 1123;
    public const int InvalidRequest = 1124;

    public const int CallRefused = 1130;
    public const int MethodNotFound = 1131;
    public const int HandlerFailed = 1132;
    public const int HandlerTimedOut = 1133;
    public const int ResultTooLarge = 1134;
    public const int CallCancelled = 1135;
}
