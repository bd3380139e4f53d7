using Microsoft.Extensions.Logging;

namespace BoxBot.Mesh;

/// <summary>Log event ids of the mesh client (7xx). Log lines name subjects and users, never passwords or tokens.</summary>
public static class MeshLogEvents
{
    public static readonly EventId Connected = new(700, "mesh-connected");
    public static readonly EventId ConnectFailed = new(701, "mesh-connect-failed");
    public static readonly EventId Disconnected = new(702, "mesh-disconnected");
    public static readonly EventId Reconnected = new(703, "mesh-reconnected");
    public static readonly EventId ServerError = new(710, "mesh-server-error");
    public static readonly EventId PermissionDenied = new(711, "mesh-permission-denied");
    public static readonly EventId MessageDropped = new(712, "mesh-message-dropped");
    public static readonly EventId Closed = new(720, "mesh-closed");
}
