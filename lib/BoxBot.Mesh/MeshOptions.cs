using System.Text;

namespace BoxBot.Mesh;

/// <summary>
/// How to reach and authenticate to the NATS mesh. At most one way to authenticate: a user
/// with a password, or a token, or neither. Credentials never go in <see cref="Url"/>.
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

        if (!string.IsNullOrEmpty(Token) && !string.IsNullOrEmpty(User))
        {
            throw new ArgumentException($"Mesh options set both {nameof(Token)} and {nameof(User)}; choose one way to authenticate.", nameof(Token));
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
            .Append(", Name = ").Append(Name)
            .Append(", ConnectTimeout = ").Append(ConnectTimeout);
        return true;
    }
}
