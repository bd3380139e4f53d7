using System.Text.Json.Serialization;

namespace BoxBot.Contracts;

/// <summary>
/// Agent methods of the user registry: who may talk to the box, with which role, and who is blocked. Admin methods
/// are callable by root, the agent's own uid and the admin group (the CLI over SSH); <see cref="Reset"/> only by the perception daemon's uid.
/// Numbers are digits only in answers; requests accept a leading + and spaces.
/// </summary>
public static class UserMethods
{
    /// <summary><see cref="UserListRequest"/> → <see cref="UserList"/>: registered users, or blocked senders.</summary>
    public const string List = "users.list";

    /// <summary><see cref="UserTarget"/> → <see cref="UserChange"/>: unregister a user (not the primary admin).</summary>
    public const string Remove = "users.remove";

    /// <summary><see cref="UserTarget"/> → <see cref="UserChange"/>: make a user an admin.</summary>
    public const string Promote = "users.promote";

    /// <summary><see cref="UserTarget"/> → <see cref="UserChange"/>: make an admin a user (not the primary admin).</summary>
    public const string Demote = "users.demote";

    /// <summary><see cref="UserTarget"/> → <see cref="UserChange"/>: lift a sender's block and forget its failed attempts.</summary>
    public const string Unblock = "users.unblock";

    /// <summary><see cref="UserRename"/> → <see cref="UserChange"/>: set a user's display name (then shown as verified).</summary>
    public const string Rename = "users.rename";

    /// <summary><see cref="EmptyParams"/> → <see cref="RegistrationCode"/>: a code that registers one new user.</summary>
    public const string NewCode = "codes.new";

    /// <summary><see cref="EmptyParams"/> → <see cref="RegistrationCode"/>: a code that makes its redeemer the primary admin (only while bootstrap is open).</summary>
    public const string BootstrapCode = "codes.bootstrap";

    /// <summary>
    /// <see cref="EmptyParams"/> → <see cref="ResetResult"/>: the physical reset (the box's reset button, through the
    /// perception daemon). Opens a new bootstrap window and returns its code; deletes nothing.
    /// </summary>
    public const string Reset = "identity.reset";
}

/// <summary>What <see cref="UserMethods.List"/> lists.</summary>
public sealed record UserListRequest
{
    /// <summary>True: the blocked senders instead of the registered users.</summary>
    [JsonPropertyName("blocked")] public bool Blocked { get; init; }
}

public sealed record UserTarget
{
    [JsonPropertyName("number")] public required string Number { get; init; }
}

public sealed record UserRename
{
    [JsonPropertyName("number")] public required string Number { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
}

/// <summary>A registered user.</summary>
public sealed record UserInfo
{
    public const string AdminRole = "admin";
    public const string UserRole = "user";

    /// <summary>Digits only, international form.</summary>
    [JsonPropertyName("number")] public required string Number { get; init; }

    /// <summary>Display name, cleaned (no control or bidi characters, at most 64 characters); may be empty.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>False while the name is the one the person's WhatsApp profile gave (anyone can type anything there); true once an admin set it.</summary>
    [JsonPropertyName("name_verified")] public bool NameVerified { get; init; }

    /// <summary>"admin" or "user".</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }

    /// <summary>The primary admin (who redeemed the bootstrap code): cannot be demoted or removed.</summary>
    [JsonPropertyName("primary")] public bool Primary { get; init; }

    /// <summary>Unix seconds.</summary>
    [JsonPropertyName("created_at")] public long CreatedAt { get; init; }

    /// <summary>Unix seconds of the last message from this user, or null.</summary>
    [JsonPropertyName("last_seen_at")] public long? LastSeenAt { get; init; }
}

/// <summary>A sender that is blocked from code attempts (and dropped silently).</summary>
public sealed record BlockInfo
{
    [JsonPropertyName("number")] public required string Number { get; init; }

    /// <summary>How many times this sender has been blocked (1 and 2: for an hour; 3: for good).</summary>
    [JsonPropertyName("level")] public int Level { get; init; }

    [JsonPropertyName("permanent")] public bool Permanent { get; init; }

    /// <summary>Unix seconds when the block ends; null when permanent.</summary>
    [JsonPropertyName("until")] public long? Until { get; init; }

    /// <summary>Unix seconds when this block began.</summary>
    [JsonPropertyName("since")] public long Since { get; init; }
}

public sealed record UserList
{
    /// <summary>The registered users; null (left out of the JSON) when the blocked senders were asked for instead.</summary>
    [JsonPropertyName("users")] public IReadOnlyList<UserInfo>? Users { get; init; }

    /// <summary>The blocks in force; null (left out of the JSON) unless they were asked for (<see cref="UserListRequest.Blocked"/>).</summary>
    [JsonPropertyName("blocked")] public IReadOnlyList<BlockInfo>? Blocked { get; init; }

    /// <summary>True while a bootstrap code may be issued (no admin yet, or a physical reset's window is open).</summary>
    [JsonPropertyName("bootstrap_open")] public bool BootstrapOpen { get; init; }
}

/// <summary>The result of an admin operation: what changed, said for a person.</summary>
public sealed record UserChange
{
    /// <summary>The user afterwards (null after remove, or for unblock).</summary>
    [JsonPropertyName("user")] public UserInfo? User { get; init; }

    /// <summary>False when there was nothing to do (already an admin, not blocked).</summary>
    [JsonPropertyName("changed")] public bool Changed { get; init; }

    [JsonPropertyName("message")] public required string Message { get; init; }
}

/// <summary>A one-time registration code. Shown once, to whoever asked; the box keeps only its HMAC.</summary>
public sealed record RegistrationCode
{
    /// <summary>Six digits.</summary>
    [JsonPropertyName("code")] public required string Code { get; init; }

    /// <summary>"user" (registers a user) or "bootstrap" (makes the redeemer the primary admin).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>Unix seconds; the code is refused after this.</summary>
    [JsonPropertyName("expires_at")] public long ExpiresAt { get; init; }

    /// <summary>Who asked: <c>console:&lt;unix user&gt;</c> or <c>whatsapp:&lt;digits&gt;</c>.</summary>
    [JsonPropertyName("issued_by")] public required string IssuedBy { get; init; }

    /// <summary>Codes this issuer may still ask for in the current hour.</summary>
    [JsonPropertyName("remaining_this_hour")] public int RemainingThisHour { get; init; }
}

public sealed record ResetResult
{
    /// <summary>Unix seconds when the new bootstrap window closes.</summary>
    [JsonPropertyName("window_until")] public long WindowUntil { get; init; }

    /// <summary>The window's first bootstrap code, for the screen.</summary>
    [JsonPropertyName("code")] public required RegistrationCode Code { get; init; }
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserListRequest))]
[JsonSerializable(typeof(UserTarget))]
[JsonSerializable(typeof(UserRename))]
[JsonSerializable(typeof(UserInfo))]
[JsonSerializable(typeof(BlockInfo))]
[JsonSerializable(typeof(UserList))]
[JsonSerializable(typeof(UserChange))]
[JsonSerializable(typeof(RegistrationCode))]
[JsonSerializable(typeof(ResetResult))]
public sealed partial class UsersJsonContext : JsonSerializerContext;
