namespace BoxBot.Mesh.Broker;

/// <summary>Who the box is on the mesh: its tenant and device id, and the id of its admin device (<c>{box}-admin</c>).</summary>
public sealed record MeshIdentity
{
    public MeshIdentity(string tenant, string boxId)
    {
        if (!MeshSubjects.IsValidToken(tenant))
        {
            throw new ArgumentException($"Invalid mesh tenant '{tenant}': use 1-64 of A-Z, a-z, 0-9, '_' or '-'.", nameof(tenant));
        }
        if (!MeshSubjects.IsValidToken(boxId) || !MeshSubjects.IsValidToken(boxId + "-admin"))
        {
            throw new ArgumentException($"Invalid box id '{boxId}': use 1-58 of A-Z, a-z, 0-9, '_' or '-' (its admin device adds '-admin').", nameof(boxId));
        }
        Tenant = tenant;
        BoxId = boxId;
    }

    public string Tenant { get; }

    public string BoxId { get; }

    /// <summary>The device that serves the box's admin functions; only admin users may publish to its <c>cmd</c>.</summary>
    public string AdminDeviceId => BoxId + "-admin";
}
