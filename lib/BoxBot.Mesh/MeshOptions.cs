using System.Text;

namespace BoxBot.Mesh;

/// <summary>
/// How to reach and authenticate to the NATS mesh. At most one way to authenticate: a user JWT with its NKey seed, a
/// user with a password, a token, or none. Credentials never go in <see cref="Url"/>. TLS (a <c>tls://</c> URL) checks
/// the broker's certificate against <see cref="CaPem"/> only, and its host name against the URL's.
/// </summary>
public sealed record MeshOptions
{
    /// <summary>Server address: <c>nats://host:port</c> (or <c>tls://</c>, <c>ws://</c>, <c>wss://</c>), without user info.</summary>
    public required Uri Url { get; init; }

    /// <summary>NATS user name; the broker's permissions for this user are the caller's identity on the mesh.</summary>
    public string? User { get; init; }

    /// <summary>Password of <see cref="User"/>. Never logged, never part of an error message or <see cref="ToString"/>.</summary>
    public string? Password { get; init; }

    /// <summary>Authentication token, as an alternative to <see cref="User"/>/<see cref="Password"/>. Never logged.</summary>
    public string? Token { get; init; }

    /// <summary>A user JWT (NATS decentralized authentication); its <see cref="Seed"/> signs the broker's nonce.</summary>
    public string? Jwt { get; init; }

    /// <summary>The NKey seed of <see cref="Jwt"/>'s user. Never logged.</summary>
    public string? Seed { get; init; }

    /// <summary>The CA (PEM) the broker's certificate must chain to; required for <c>tls://</c>. The system's CAs are not used.</summary>
    public string? CaPem { get; init; }

    /// <summary>A client certificate (PEM) for brokers that require one (mutual TLS), with <see cref="ClientKeyPem"/>.</summary>
    public string? ClientCertificatePem { get; init; }

    /// <summary>The client certificate's private key (PEM). Never logged.</summary>
    public string? ClientKeyPem { get; init; }

    /// <summary>
    /// The first token of this client's reply subjects: <c>_INBOX_{user}</c> for a user the household broker lets read
    /// only its own replies; <c>_INBOX</c> (NATS's default) elsewhere.
    /// </summary>
    public string InboxPrefix { get; init; } = "_INBOX";

    /// <summary>Client name the broker shows in its monitoring.</summary>
    public string Name { get; init; } = "boxbot";

    /// <summary>How long to wait for the TCP connection and the NATS handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Defaults for <paramref name="url"/>; add credentials with <c>with</c>.</summary>
    public static MeshOptions For(Uri url) => new() { Url = url };

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting (never its secret value).</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Url);
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("nats" or "tls" or "ws" or "wss"))
        {
            throw new ArgumentException(
                $"Mesh URL '{Url}' must be absolute with scheme nats, tls, ws or wss (for example nats://127.0.0.1:4222).", nameof(Url));
        }

        if (!string.IsNullOrEmpty(Url.UserInfo))
        {
            // Not echoing the URL: its user info may hold a password.
            throw new ArgumentException(
                $"Mesh URL for host '{Url.Host}' contains user info; put credentials in {nameof(User)}/{nameof(Password)} or {nameof(Token)} so they stay out of logs.",
                nameof(Url));
        }

        if (string.IsNullOrEmpty(User) != string.IsNullOrEmpty(Password))
        {
            throw new ArgumentException($"Mesh {nameof(User)} and {nameof(Password)} must be set together.", nameof(Password));
        }

        var ways = (string.IsNullOrEmpty(User) ? 0 : 1) + (string.IsNullOrEmpty(Token) ? 0 : 1) + (string.IsNullOrEmpty(Jwt) ? 0 : 1);
        if (ways > 1)
        {
            throw new ArgumentException("Mesh options set more than one way to authenticate (user and password, token, JWT); choose one.", nameof(Token));
        }

        if (string.IsNullOrEmpty(Jwt) != string.IsNullOrEmpty(Seed))
        {
            throw new ArgumentException($"Mesh {nameof(Jwt)} and {nameof(Seed)} must be set together (a .creds file holds both).", nameof(Seed));
        }

        if (Url.Scheme == "tls" && string.IsNullOrEmpty(CaPem))
        {
            throw new ArgumentException($"Mesh URL '{Url}' uses TLS but no CA is configured to check the broker's certificate against.", nameof(CaPem));
        }

        if (string.IsNullOrEmpty(ClientCertificatePem) != string.IsNullOrEmpty(ClientKeyPem))
        {
            throw new ArgumentException("Mesh client certificate and key must be set together.", nameof(ClientKeyPem));
        }

        if (!MeshSubjects.IsValidInboxPrefix(InboxPrefix))
        {
            throw new ArgumentException($"Mesh inbox prefix '{InboxPrefix}' must be one subject token (no dots, wildcards or spaces).", nameof(InboxPrefix));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Mesh {nameof(ConnectTimeout)} must be positive, got {ConnectTimeout}.", nameof(ConnectTimeout));
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException($"Mesh client {nameof(Name)} must not be empty.", nameof(Name));
        }
    }

    // Records print every property by default; this keeps secrets out of logs that format options.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Url = ").Append(Url)
            .Append(", User = ").Append(User)
            .Append(", Password = ").Append(Password is null ? "" : "***")
            .Append(", Token = ").Append(Token is null ? "" : "***")
            .Append(", Jwt = ").Append(Jwt is null ? "" : "(set)")
            .Append(", Seed = ").Append(Seed is null ? "" : "***")
            .Append(", Tls = ").Append(CaPem is null ? "system" : "own CA").Append(ClientCertificatePem is null ? "" : ", client certificate")
            .Append(", InboxPrefix = ").Append(InboxPrefix)
            .Append(", Name = ").Append(Name)
            .Append(", ConnectTimeout = ").Append(ConnectTimeout);
        return true;
    }
}
