namespace BoxBot.Sandbox.Sdk;

/// <summary>
/// What an SDK session asks of the agent. Implemented by the agent, where the secrets live.
/// Every argument has already been validated by <see cref="SdkSession"/> (names match
/// <c>^[A-Z][A-Z0-9_]{0,63}$</c>, values are at most 8 KiB of UTF-8 without NUL).
/// Throw <see cref="SdkRefusedException"/> for a refusal the script may read (for example "store full");
/// any other exception becomes a generic error reply and only its type is logged.
/// </summary>
public interface ISdkHost
{
    ValueTask StoreSecretAsync(string name, string value, CancellationToken ct);

    ValueTask<IReadOnlyList<string>> ListSecretsAsync(CancellationToken ct);

    ValueTask<bool> HasSecretAsync(string name, CancellationToken ct);

    ValueTask<bool> DeleteSecretAsync(string name, CancellationToken ct);

    /// <summary>
    /// Saves an agent-authored skill (<c>bb.skill.save</c>); the agent's skill catalog applies its rules (name, sizes, never a
    /// built-in name) and its refusal reaches the script. Hosts without skills refuse.
    /// </summary>
    ValueTask SaveSkillAsync(string name, string description, string body, CancellationToken ct) =>
        throw new SdkRefusedException("skills cannot be saved here");
}
