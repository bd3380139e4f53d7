using System.Text.Json.Serialization;

namespace BoxBot.Mesh.Broker;

/// <summary>A user of the household broker that boxbot minted: a device or an admin. Its seed was handed out once and is not kept.</summary>
/// <param name="Name">The device id, or the admin's name; also the user JWT's name and its inbox (<c>_INBOX_{name}</c>).</param>
/// <param name="Kind"><see cref="DeviceKind"/> or <see cref="AdminKind"/>.</param>
/// <param name="PublicKey">The user's NKey (<c>U…</c>): what a revocation names.</param>
/// <param name="DeviceType">The device type given when it was added (informational).</param>
/// <param name="MayCall">The devices whose <c>cmd</c> it may publish to.</param>
/// <param name="LegacyInbox">It reads the shared <c>_INBOX.&gt;</c> (clients that cannot set an inbox prefix).</param>
/// <param name="AddedAt">When it was added.</param>
public sealed record MeshUser(string Name, string Kind, string PublicKey, string? DeviceType, IReadOnlyList<string> MayCall,
    bool LegacyInbox, DateTimeOffset AddedAt)
{
    public const string DeviceKind = "device";
    public const string AdminKind = "admin";
}

/// <summary>The users file (<c>users.json</c> beside the seeds): who exists, and every revocation ever made.</summary>
internal sealed record MeshUsersFile(List<MeshUser> Users, SortedDictionary<string, long> Revocations);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(MeshUsersFile))]
internal sealed partial class MeshStateJson : JsonSerializerContext;
