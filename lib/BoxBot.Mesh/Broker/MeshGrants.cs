using BoxBot.Mesh.Credentials;

namespace BoxBot.Mesh.Broker;

/// <summary>
/// What each kind of mesh user may publish and subscribe to on the household broker: only its own subjects. The
/// reference portal grants every device of a tenant <c>device-connect.{t}.&gt;</c> and <c>_INBOX.&gt;</c>; here a device
/// cannot publish another's heartbeat or events, read another's commands or replies, or call a device it was not given.
/// </summary>
public static class MeshGrants
{
    /// <summary>The inbox prefix of a user's own requests: <c>_INBOX_{name}</c> (boxbot's clients set it).</summary>
    public static string InboxPrefix(string name) => "_INBOX_" + name;

    /// <summary>The reference clients' shared inbox, which a <c>--legacy-inbox</c> user may read (every legacy user's replies).</summary>
    public const string LegacyInbox = "_INBOX";

    /// <summary>A device: its own heartbeat, presence and events; the registry and discovery; the commands of <paramref name="mayCall"/>.</summary>
    public static UserPermissions Device(MeshIdentity mesh, string id, IReadOnlyList<string> mayCall, bool legacyInbox)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var p = MeshSubjects.Prefix(mesh.Tenant);
        List<string> publish =
        [
            MeshSubjects.Heartbeat(mesh.Tenant, id),
            MeshSubjects.Presence(mesh.Tenant, id),
            MeshSubjects.Device(mesh.Tenant, id, "event") + ".>",
            MeshSubjects.Registry(mesh.Tenant),
            MeshSubjects.Discovery(mesh.Tenant),
            MeshSubjects.DiscoveryProbe(mesh.Tenant),
        ];
        publish.AddRange(mayCall.Select(callee => MeshSubjects.Cmd(mesh.Tenant, callee)));
        return new UserPermissions(publish,
        [
            MeshSubjects.Cmd(mesh.Tenant, id),
            MeshSubjects.Broadcast(mesh.Tenant),
            // Registry-less discovery: every device's presence and the probes asking for it (capabilities, nothing private).
            p + ".*.presence",
            MeshSubjects.DiscoveryProbe(mesh.Tenant),
            // The registry's online/offline notices.
            p + ".device.>",
            (legacyInbox ? LegacyInbox : InboxPrefix(id)) + ".>",
        ], Respond: true);
    }

    /// <summary>A person or tool administering the mesh: may call every device, the box's admin device included, and read the tenant.</summary>
    public static UserPermissions Admin(MeshIdentity mesh, string name, bool legacyInbox)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var p = MeshSubjects.Prefix(mesh.Tenant);
        return new UserPermissions(
        [
            p + ".*.cmd",
            MeshSubjects.Registry(mesh.Tenant),
            MeshSubjects.Discovery(mesh.Tenant),
            MeshSubjects.DiscoveryProbe(mesh.Tenant),
            MeshSubjects.Broadcast(mesh.Tenant),
        ],
        [
            p + ".>",
            (legacyInbox ? LegacyInbox : InboxPrefix(name)) + ".>",
        ], Respond: false);
    }

    /// <summary>
    /// The box itself (the plugin host): its two devices (<c>{box}</c> and <c>{box}-admin</c>), calls to any device (the
    /// agent's calls are checked against the policy by the agent and again by the plugin host; an admin's by nothing
    /// more), and what it reads to keep its directory of devices.
    /// </summary>
    public static UserPermissions Box(MeshIdentity mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var p = MeshSubjects.Prefix(mesh.Tenant);
        List<string> publish = [p + ".*.cmd", MeshSubjects.Registry(mesh.Tenant), MeshSubjects.Discovery(mesh.Tenant), MeshSubjects.DiscoveryProbe(mesh.Tenant)];
        foreach (var device in new[] { mesh.BoxId, mesh.AdminDeviceId })
        {
            publish.Add(MeshSubjects.Heartbeat(mesh.Tenant, device));
            publish.Add(MeshSubjects.Presence(mesh.Tenant, device));
            publish.Add(MeshSubjects.Device(mesh.Tenant, device, "event") + ".>");
        }
        return new UserPermissions(publish,
        [
            MeshSubjects.Cmd(mesh.Tenant, mesh.BoxId),
            MeshSubjects.Cmd(mesh.Tenant, mesh.AdminDeviceId),
            MeshSubjects.Broadcast(mesh.Tenant),
            p + ".*.presence",
            p + ".*.heartbeat",
            p + ".*.event.>",
            p + ".device.>",
            MeshSubjects.DiscoveryProbe(mesh.Tenant),
            InboxPrefix(mesh.BoxId) + ".>",
        ], Respond: true);
    }
}
