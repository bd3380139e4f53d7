using BoxBot.Contracts;

namespace BoxBot.Config;

/// <summary>A secret the box needs. Secrets never live in <c>boxbot.toml</c>.</summary>
/// <param name="Name">File name in the credentials folder and the <c>LoadCredential=</c> id.</param>
/// <param name="UsedBy">The daemon that reads it (<see cref="DaemonInfo.Name"/>).</param>
/// <param name="Description">What it is and where it comes from.</param>
/// <param name="GeneratedForDevelopment">True when <c>boxbot dev up</c> may invent a random value for it.</param>
public sealed record CredentialInfo(string Name, string UsedBy, string Description, bool GeneratedForDevelopment);

/// <summary>The catalog of credentials: the one list the units, <c>boxbot doctor</c> and the docs draw on.</summary>
public static class Credentials
{
    public static IReadOnlyList<CredentialInfo> All { get; } =
    [
        new("whatsapp-app-secret", Daemons.Webhook.Name,
            "WhatsApp app secret (Meta app dashboard); checks the X-Hub-Signature-256 of every webhook call", true),
        new("whatsapp-verify-token", Daemons.Webhook.Name,
            "Token you choose and enter in the Meta webhook settings; answers the subscription handshake", true),
        new("whatsapp-access-token", Daemons.Agent.Name,
            "WhatsApp Cloud API access token (Meta app dashboard); sends outbound messages", false),
        new("llm-api-key", Daemons.Agent.Name,
            "API key of the LLM provider", false),
        new("mesh-creds-json", Daemons.PluginHost.Name,
            "A Device Connect portal's *.creds.json for this box (mesh.broker = \"remote\"): its JWT, seed, tenant and URL", false),
        new("mesh-creds", Daemons.PluginHost.Name,
            "A NATS .creds file (user JWT and NKey seed) for a remote broker (mesh.broker = \"remote\")", false),
        new("mesh-password", Daemons.PluginHost.Name,
            "Password of the NATS user mesh.user on a remote broker", false),
        new("mesh-tls-key", Daemons.PluginHost.Name,
            "Private key (PEM) of the client certificate mesh.tls_cert_file, for a remote broker that requires one", false),
    ];

    public static CredentialInfo? Find(string name) => All.FirstOrDefault(c => c.Name == name);
}

/// <summary>A credential could not be read safely, or is missing.</summary>
public sealed class CredentialException : Exception
{
    public CredentialException(string message, string? path = null, Exception? innerException = null)
        : base(message, innerException) => Path = path;

    /// <summary>The file at fault, when there is one.</summary>
    public string? Path { get; }
}
