namespace BoxBot.Mesh.Credentials;

/// <summary>
/// The subjects a NATS user may publish and subscribe to, as its JWT states them (the broker enforces them). An empty
/// allow list grants nothing: the minted JWT always carries an allow list, so a user never falls back to "everything".
/// </summary>
/// <param name="Publish">Subjects (wildcards allowed) the user may publish to.</param>
/// <param name="Subscribe">Subjects (wildcards allowed) the user may subscribe to.</param>
/// <param name="Respond">
/// Whether the user may answer requests it received (NATS's response permission): one reply per request, to the request's
/// reply subject, for <see cref="ResponseWindow"/>, whatever the publish list says.
/// </param>
public sealed record UserPermissions(IReadOnlyList<string> Publish, IReadOnlyList<string> Subscribe, bool Respond)
{
    /// <summary>How long after a request its receiver may answer it.</summary>
    public static readonly TimeSpan ResponseWindow = TimeSpan.FromMinutes(1);
}
