using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using static BoxBot.Agent.Storage.Sql;

namespace BoxBot.Agent.Identity;

/// <summary>What became of an inbound message at the registry's door.</summary>
public enum Admission
{
    /// <summary>From a registered user: goes to their conversation (the inbox for now).</summary>
    Deliver,

    /// <summary>A valid code from an unregistered sender: they are now registered. The code message itself goes nowhere.</summary>
    Registered,

    /// <summary>Six digits from an unregistered sender that match no live code: counted towards blocks.</summary>
    FailedAttempt,

    /// <summary>From a blocked sender: dropped before any other work.</summary>
    DroppedBlocked,

    /// <summary>From an unregistered sender and not a code: dropped silently.</summary>
    DroppedUnregistered,

    /// <summary>A code message handled before (the webhook sent it again): nothing happens twice.</summary>
    Repeated,
}

/// <summary>
/// Who may talk to the box: registered users with their roles, one-time registration codes, blocks on senders who guess,
/// and the append-only auth event log, all in the agent's database. Every rule is here and nowhere else; the agent's
/// admin methods, inbound routing and outbound send path call it. Times come from the injected clock.
/// </summary>
public sealed partial class UserRegistry
{
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);
    public const int CodesPerHour = 3;

    /// <summary>Bootstrap codes an hour, whoever asks (each revokes the one before, so this only bounds churn).</summary>
    public const int BootstrapCodesPerHour = 10;
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(10);
    public const int FailuresToBlock = 5;
    public static readonly TimeSpan BlockDuration = TimeSpan.FromHours(1);
    /// <summary>The block at this level (the third) is permanent.</summary>
    public const int PermanentLevel = 3;
    public static readonly TimeSpan GlobalWindow = TimeSpan.FromHours(1);
    /// <summary>More failed attempts than this across all senders within <see cref="GlobalWindow"/> revoke every live code.</summary>
    public const int GlobalFailureLimit = 20;
    public static readonly TimeSpan ResetWindow = TimeSpan.FromMinutes(30);

    // Failed attempts older than this are deleted (the longest window that counts them is an hour; block levels live in
    // the blocks table). Redeliveries come within the webhook's 8-day memory of keys, which stops them first.
    private static readonly TimeSpan AttemptMemory = TimeSpan.FromDays(1);
    private const string BootstrapClosedKey = "bootstrap_closed";
    private const string ResetUntilKey = "reset_until";
    private const string RevocationNotifiedKey = "revocation_notified_at";

    private readonly AgentDatabase _database;
    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Action<string, string> _notify;
    // Blocked senders and when their block ends (null: never), so a blocked sender costs a dictionary look-up.
    private readonly ConcurrentDictionary<string, long?> _blocks = new(StringComparer.Ordinal);
    private long _failuresSincePrune;

    /// <param name="notify">Sends a WhatsApp text (number, text) to a registered user, after the change is committed: the welcome, the revocation alert.</param>
    public UserRegistry(AgentDatabase database, byte[] key, TimeProvider time, ILogger log, Action<string, string>? notify = null)
    {
        _database = database;
        _key = key;
        _time = time;
        _log = log;
        _notify = notify ?? ((_, _) => { });
        _database.Use(c =>
        {
            using var command = Command(c, "SELECT sender, until FROM blocks");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _blocks[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            }
            return 0;
        });
    }

    /// <summary>
    /// The door for an inbound WhatsApp message (the webhook's normalized event, sender digits only): blocked senders are
    /// dropped first; registered users' messages are delivered; from anyone else only a message whose whole text is six
    /// digits is tried as a code, and everything else is dropped. Nothing here ever answers an unregistered sender.
    /// </summary>
    public Admission Admit(WhatsAppEvent message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sender = message.From ?? throw new ArgumentException("a message without a sender", nameof(message));
        var now = Now();
        if (IsBlocked(sender, now))
        {
            return Admission.DroppedBlocked;
        }
        var code = message.Type == "text" ? CodeText(message.Text) : null;
        var notes = new List<(string To, string Text)>();
        var admission = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            var result = AdmitIn(c, message, sender, code, now, notes);
            tx.Commit();
            return result;
        });
        Notify(notes);
        return admission;
    }

    private Admission AdmitIn(SqliteConnection c, WhatsAppEvent message, string sender, string? code, long now, List<(string, string)> notes)
    {
        if (FindUser(c, sender) is { } user)
        {
            // The code that registered them, sent again by the webhook, is not a message to their conversation.
            if (code is not null && Exists(c, "SELECT 1 FROM registration_codes WHERE used_message = $a", message.Id))
            {
                return Admission.Repeated;
            }
            Execute(c, user.NameVerified
                ? "UPDATE users SET last_seen_at = $b WHERE number = $a"
                : "UPDATE users SET last_seen_at = $b, name = CASE WHEN $c = '' THEN name ELSE $c END WHERE number = $a",
                sender, now, DisplayNames.Clean(message.Name));
            return Admission.Deliver;
        }
        if (code is null)
        {
            return Admission.DroppedUnregistered;
        }
        if (Exists(c, "SELECT 1 FROM failed_attempts WHERE message_id = $a", message.Id))
        {
            return Admission.Repeated;
        }
        if (MatchCode(c, code, now) is { } match)
        {
            Register(c, match, sender, DisplayNames.Clean(message.Name), message.Id, now, notes);
            return Admission.Registered;
        }
        Fail(c, sender, message.Id, now, notes);
        return Admission.FailedAttempt;
    }

    /// <summary>The text as a code: exactly six ASCII digits once surrounding white space is dropped; otherwise null.</summary>
    internal static string? CodeText(string? text)
    {
        var trimmed = text?.Trim();
        return trimmed is { Length: 6 } && trimmed.All(char.IsAsciiDigit) ? trimmed : null;
    }

    /// <summary>True when the box may send to <paramref name="number"/>: a registered user who is not blocked.</summary>
    public bool MaySendTo(string number) =>
        !IsBlocked(number, Now()) && _database.Use(c => Exists(c, "SELECT 1 FROM users WHERE number = $a", number));

    /// <summary>The registered user with this number (digits only), or null.</summary>
    public UserInfo? Find(string number) => _database.Use(c => FindUser(c, number));

    private bool IsBlocked(string sender, long now) =>
        _blocks.TryGetValue(sender, out var until) && (until is null || until > now);

    private (long Id, string Kind, string IssuedBy)? MatchCode(SqliteConnection c, string code, long now)
    {
        var candidate = Hmac(code);
        (long, string, string)? found = null;
        using var command = Command(c, "SELECT id, hmac, kind, issued_by FROM registration_codes WHERE state = 'active' AND expires_at > $a", now);
        using var reader = command.ExecuteReader();
        // Every live code is compared, all the way, whatever matched before.
        while (reader.Read())
        {
            var stored = (byte[])reader.GetValue(1);
            if (CryptographicOperations.FixedTimeEquals(stored, candidate))
            {
                found = (reader.GetInt64(0), reader.GetString(2), reader.GetString(3));
            }
        }
        return found;
    }

    private void Register(SqliteConnection c, (long Id, string Kind, string IssuedBy) code, string sender, string name, string messageId, long now,
        List<(string, string)> notes)
    {
        var bootstrap = code.Kind == "bootstrap";
        if (bootstrap)
        {
            // A new primary admin (after the physical reset) takes over the flag; the old one stays an admin.
            Execute(c, "UPDATE users SET is_primary = 0 WHERE is_primary = 1");
            SetState(c, BootstrapClosedKey, 1);
            SetState(c, ResetUntilKey, 0);
            RevokeWhere(c, "kind = 'bootstrap' AND id <> $a", code.Id, now, "bootstrap closed");
        }
        Execute(c, "INSERT INTO users(number, name, role, is_primary, created_at, last_seen_at) VALUES ($a, $b, $c, $d, $e, $e)",
            sender, name, bootstrap ? UserInfo.AdminRole : UserInfo.UserRole, bootstrap ? 1 : 0, now);
        Execute(c, "UPDATE registration_codes SET state = 'used', closed_at = $b, used_by = $c, used_message = $d WHERE id = $a",
            code.Id, now, sender, messageId);
        Event(c, now, "registered", sender, code.IssuedBy, bootstrap ? "primary admin, bootstrap code" : "user");
        LogRegistered(_log, sender, bootstrap ? "the primary admin" : "a user", code.IssuedBy);
        notes.Add((sender, bootstrap
            ? "Welcome to boxbot. You are its primary admin: only people you register can talk to it."
            : "Welcome to boxbot. You are registered and can talk to it here."));
        if (code.IssuedBy.StartsWith(WhatsAppIssuer, StringComparison.Ordinal))
        {
            notes.Add((code.IssuedBy[WhatsAppIssuer.Length..], $"Your registration code was used: {sender} is now a registered user."));
        }
    }

    private void Fail(SqliteConnection c, string sender, string messageId, long now, List<(string, string)> notes)
    {
        Execute(c, "INSERT INTO failed_attempts(message_id, sender, at) VALUES ($a, $b, $c)", messageId, sender, now);
        Event(c, now, "failed_attempt", sender, null, null);
        // Counted only as far as the limit: under a distributed attack the last hour holds tens of thousands of rows.
        var recent = Count(c, "SELECT count(*) FROM (SELECT 1 FROM failed_attempts WHERE sender = $a AND at > $b LIMIT $c)",
            sender, now - (long)FailureWindow.TotalSeconds, FailuresToBlock);
        if (recent >= FailuresToBlock)
        {
            Block(c, sender, now);
        }
        var global = Count(c, "SELECT count(*) FROM (SELECT 1 FROM failed_attempts WHERE at > $a LIMIT $b)",
            now - (long)GlobalWindow.TotalSeconds, GlobalFailureLimit + 1);
        if (global > GlobalFailureLimit)
        {
            var revoked = RevokeWhere(c, "1 = 1", null, now, "too many failed attempts");
            var notified = GetState(c, RevocationNotifiedKey);
            if (revoked > 0 || notified <= now - (long)GlobalWindow.TotalSeconds)
            {
                LogGuessing(_log, revoked);
            }
            if (notified <= now - (long)GlobalWindow.TotalSeconds)
            {
                SetState(c, RevocationNotifiedKey, now);
                var text = $"boxbot: more than {GlobalFailureLimit} wrong registration codes were sent within an hour, from several numbers. " +
                    "Every open registration code has been revoked. Ask for a new one when you need it (boxbot code new).";
                notes.AddRange(Admins(c).Select(a => (a, text)));
            }
        }
        if (++_failuresSincePrune >= 1000)
        {
            _failuresSincePrune = 0;
            Execute(c, "DELETE FROM failed_attempts WHERE at < $a", now - (long)AttemptMemory.TotalSeconds);
        }
    }

    private void Block(SqliteConnection c, string sender, long now)
    {
        var level = (int)Count(c, "SELECT coalesce(max(level), 0) FROM blocks WHERE sender = $a", sender) + 1;
        long? until = level >= PermanentLevel ? null : now + (long)BlockDuration.TotalSeconds;
        Execute(c, """
            INSERT INTO blocks(sender, level, since, until) VALUES ($a, $b, $c, $d)
            ON CONFLICT(sender) DO UPDATE SET level = excluded.level, since = excluded.since, until = excluded.until
            """, sender, level, now, until);
        Event(c, now, "blocked", sender, null, until is null ? $"level {level}, permanent" : $"level {level}, for {BlockDuration.TotalMinutes:0} minutes");
        _blocks[sender] = until;
        LogBlocked(_log, sender, level, until is null ? "for good" : "for an hour");
    }

    private long RevokeWhere(SqliteConnection c, string condition, object? a, long now, string reason)
    {
        using var select = Command(c, $"SELECT id, issued_by FROM registration_codes WHERE state = 'active' AND ({condition})", a);
        var codes = new List<(long, string)>();
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                codes.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }
        foreach (var (id, issuer) in codes)
        {
            Execute(c, "UPDATE registration_codes SET state = 'revoked', closed_at = $b WHERE id = $a", id, now);
            Event(c, now, "code_revoked", null, issuer, reason);
        }
        return codes.Count;
    }

    private List<string> Admins(SqliteConnection c)
    {
        using var command = Command(c, "SELECT number FROM users WHERE role = 'admin' ORDER BY is_primary DESC, created_at");
        using var reader = command.ExecuteReader();
        var admins = new List<string>();
        while (reader.Read())
        {
            admins.Add(reader.GetString(0));
        }
        return admins;
    }

    private void Notify(List<(string To, string Text)> notes)
    {
        foreach (var (to, text) in notes)
        {
            try
            {
                _notify(to, text);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogNotifyFailed(_log, to, e.Message);
            }
        }
    }

    private byte[] Hmac(string code) => HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(code));

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    private static UserInfo? FindUser(SqliteConnection c, string number)
    {
        using var command = Command(c, "SELECT number, name, name_verified, role, is_primary, created_at, last_seen_at FROM users WHERE number = $a", number);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadUser(reader) : null;
    }

    private static UserInfo ReadUser(SqliteDataReader reader) => new()
    {
        Number = reader.GetString(0),
        Name = reader.GetString(1),
        NameVerified = reader.GetInt64(2) != 0,
        Role = reader.GetString(3),
        Primary = reader.GetInt64(4) != 0,
        CreatedAt = reader.GetInt64(5),
        LastSeenAt = reader.IsDBNull(6) ? null : reader.GetInt64(6),
    };

    private static void Event(SqliteConnection c, long now, string name, string? subject, string? actor, string? detail) =>
        Execute(c, "INSERT INTO auth_events(at, event, subject, actor, detail) VALUES ($a, $b, $c, $d, $e)", now, name, subject, actor, detail);

    private static long GetState(SqliteConnection c, string key) => Count(c, "SELECT coalesce(max(value), 0) FROM identity_state WHERE key = $a", key);

    private static void SetState(SqliteConnection c, string key, long value) =>
        Execute(c, "INSERT INTO identity_state(key, value) VALUES ($a, $b) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "{Number} registered as {What} (code from {Issuer})")]
    private static partial void LogRegistered(ILogger logger, string number, string what, string issuer);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "{Number} is blocked {Duration} after repeated wrong registration codes (block {Level})")]
    private static partial void LogBlocked(ILogger logger, string number, int level, string duration);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "more than 20 wrong registration codes within an hour from all senders: {Revoked} open codes revoked")]
    private static partial void LogGuessing(ILogger logger, long revoked);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "could not send a registry notice to {Number}: {Reason}")]
    private static partial void LogNotifyFailed(ILogger logger, string number, string reason);
}
