namespace NATS.NKeys;

/// <summary>
/// The members NATS.Client.Core 3.3.2 calls, with the same signatures, all refusing: NKey/JWT
/// (.creds) authentication is unavailable until the real NATS.NKeys package can be restored.
/// </summary>
public sealed class KeyPair : IDisposable
{
    private const string Unavailable =
        "NKey/JWT (.creds) authentication is unavailable in this build: the NATS.NKeys package is not served by the "
        + "package registry (see lib/BoxBot.Mesh/BoxBot.Mesh.csproj). Use user/password or token authentication.";

    private KeyPair()
    {
    }

    public static KeyPair FromSeed(ReadOnlySpan<char> seed) => throw new NotSupportedException(Unavailable);

    public string GetPublicKey() => throw new NotSupportedException(Unavailable);

    public void Sign(ReadOnlyMemory<byte> input, Memory<byte> signature) => throw new NotSupportedException(Unavailable);

    public void Dispose()
    {
    }
}
