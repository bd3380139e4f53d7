using System.Security.Cryptography;
using BoxBot.Contracts;
using BoxBot.WhatsApp;
using Microsoft.Data.Sqlite;
using static BoxBot.Agent.Storage.Sql;

namespace BoxBot.Agent.Identity;

// Codes and admin operations. Actors and issuers are "console:<unix user>" (the CLI; the socket's policy already
// checked the admin group), "whatsapp:<digits>" (an admin asking through the assistant; checked here) or "button"
// (the physical reset).
public sealed partial class UserRegistry
{
    public const string WhatsAppIssuer = "whatsapp:";
    public const string ConsoleIssuer = "console:";
    public const string ButtonIssuer = "button";

    /// <summary>A code that registers one new user. One live code per issuer: this revokes the issuer's previous one.</summary>
    public RegistrationCode IssueCode(string issuer)
    {
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        return _database.Use(c =>
        {
            var now = Now();
            using var tx = c.BeginTransaction();
            if (!Exists(c, "SELECT 1 FROM users WHERE role = 'admin'"))
            {
                throw IdentityException.Refused("there is no admin yet: the first one registers with a bootstrap code (boxbot code bootstrap)");
            }
            if (issuer.StartsWith(WhatsAppIssuer, StringComparison.Ordinal)
                && FindUser(c, issuer[WhatsAppIssuer.Length..]) is not { Role: UserInfo.AdminRole })
            {
                throw IdentityException.Refused("only admins may ask for registration codes");
            }
            var code = Issue(c, issuer, "user", "issued_by = $a AND kind = 'user'", issuer, now);
            tx.Commit();
            return code;
        });
    }

    /// <summary>
    /// A code whose redeemer becomes the primary admin: only while no admin exists, or within a physical reset's window.
    /// One live bootstrap code at a time: this revokes any other.
    /// </summary>
    public RegistrationCode IssueBootstrapCode(string issuer)
    {
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        return _database.Use(c =>
        {
            var now = Now();
            using var tx = c.BeginTransaction();
            if (!BootstrapOpen(c, now))
            {
                throw IdentityException.Refused("bootstrap is closed: the box has its primary admin. Admins register new people with " +
                    "`boxbot code new`; a new primary admin needs the physical reset (docs/users.md)");
            }
            var code = Issue(c, issuer, "bootstrap", "kind = 'bootstrap'", null, now);
            tx.Commit();
            return code;
        });
    }

    /// <summary>The physical reset: opens a bootstrap window of <see cref="ResetWindow"/> and issues its first code. Deletes nothing.</summary>
    public ResetResult Reset()
    {
        var until = _database.Use(c =>
        {
            var now = Now();
            var end = now + (long)ResetWindow.TotalSeconds;
            using var tx = c.BeginTransaction();
            SetState(c, ResetUntilKey, end);
            Event(c, now, "reset", null, ButtonIssuer, $"bootstrap window open for {ResetWindow.TotalMinutes:0} minutes");
            tx.Commit();
            return end;
        });
        return new ResetResult { WindowUntil = until, Code = IssueBootstrapCode(ButtonIssuer) };
    }

    /// <summary>True while a bootstrap code may be issued.</summary>
    public bool IsBootstrapOpen => _database.Use(c => BootstrapOpen(c, Now()));

    private static bool BootstrapOpen(SqliteConnection c, long now) =>
        GetState(c, ResetUntilKey) > now || (GetState(c, BootstrapClosedKey) == 0 && !Exists(c, "SELECT 1 FROM users WHERE role = 'admin'"));

    /// <summary>
    /// Issues a code within its hourly quota: <see cref="CodesPerHour"/> user codes per issuer, and
    /// <see cref="BootstrapCodesPerHour"/> bootstrap codes in all. The two are counted apart, so setting up a box (a
    /// bootstrap code, a retry) never uses up the first admin's codes for the people they add next.
    /// </summary>
    private RegistrationCode Issue(SqliteConnection c, string issuer, string kind, string revokeCondition, object? revokeArgument, long now)
    {
        var hourAgo = now - 3600;
        var bootstrap = kind == "bootstrap";
        var (quota, scope, owner) = bootstrap
            ? (BootstrapCodesPerHour, "kind = 'bootstrap'", $"at most {BootstrapCodesPerHour} bootstrap codes an hour")
            : (CodesPerHour, "kind = 'user' AND issued_by = $a", $"at most {CodesPerHour} codes an hour for {issuer}");
        var issued = Count(c, $"SELECT count(*) FROM registration_codes WHERE {scope} AND issued_at > $b", issuer, hourAgo);
        if (issued >= quota)
        {
            var next = Count(c, $"SELECT min(issued_at) FROM registration_codes WHERE {scope} AND issued_at > $b", issuer, hourAgo) + 3600;
            throw IdentityException.Refused($"{owner}; the next one at " +
                DateTimeOffset.FromUnixTimeSeconds(next).ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
        }
        RevokeWhere(c, revokeCondition, revokeArgument, now, "replaced by a new code");
        string code;
        byte[] hmac;
        do
        {
            code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            hmac = Hmac(code);
        }
        while (MatchCode(c, code, now) is not null); // never two live codes alike: a guess would not say whose it is
        var expires = now + (long)CodeLifetime.TotalSeconds;
        Execute(c, "INSERT INTO registration_codes(hmac, kind, issued_by, issued_at, expires_at) VALUES ($a, $b, $c, $d, $e)",
            hmac, kind, issuer, now, expires);
        Event(c, now, "code_issued", null, issuer, kind);
        return new RegistrationCode
        {
            Code = code,
            Kind = kind,
            ExpiresAt = expires,
            IssuedBy = issuer,
            RemainingThisHour = quota - (int)issued - 1,
        };
    }

    /// <summary>Registered users (primary admin first, then by registration), or the blocked senders.</summary>
    public UserList List(bool blocked) => _database.Use(c =>
    {
        var now = Now();
        if (!blocked)
        {
            using var users = Command(c, "SELECT number, name, name_verified, role, is_primary, created_at, last_seen_at FROM users ORDER BY is_primary DESC, created_at, number");
            using var reader = users.ExecuteReader();
            var list = new List<UserInfo>();
            while (reader.Read())
            {
                list.Add(ReadUser(reader));
            }
            return new UserList { Users = list, BootstrapOpen = BootstrapOpen(c, now) };
        }
        // Only blocks in force: an expired one is kept (its level counts towards the permanent block) but is no block.
        using var blocks = Command(c, "SELECT sender, level, since, until FROM blocks WHERE until IS NULL OR until > $a ORDER BY since, sender", now);
        using var rows = blocks.ExecuteReader();
        var blockList = new List<BlockInfo>();
        while (rows.Read())
        {
            blockList.Add(new BlockInfo
            {
                Number = rows.GetString(0),
                Level = rows.GetInt32(1),
                Since = rows.GetInt64(2),
                Until = rows.IsDBNull(3) ? null : rows.GetInt64(3),
                Permanent = rows.IsDBNull(3),
            });
        }
        return new UserList { Blocked = blockList, BootstrapOpen = BootstrapOpen(c, now) };
    });

    /// <summary>Unregisters a user; their messages stay. The primary admin cannot be removed.</summary>
    public UserChange Remove(string number, string actor) => Change(number, actor, (c, user, now) =>
    {
        if (user.Primary)
        {
            throw IdentityException.Refused($"{user.Number} is the primary admin and cannot be removed (a physical reset makes another primary admin)");
        }
        Execute(c, "DELETE FROM users WHERE number = $a", user.Number);
        Event(c, now, "removed", user.Number, actor, user.Role);
        return new UserChange { Changed = true, Message = $"removed {user.Number} ({user.Role}); messages from this number are now dropped" };
    });

    public UserChange Promote(string number, string actor) => Change(number, actor, (c, user, now) =>
    {
        if (user.Role == UserInfo.AdminRole)
        {
            return new UserChange { User = user, Message = $"{user.Number} is already an admin" };
        }
        Execute(c, "UPDATE users SET role = 'admin' WHERE number = $a", user.Number);
        Event(c, now, "promoted", user.Number, actor, null);
        return new UserChange { User = FindUser(c, user.Number), Changed = true, Message = $"{user.Number} is now an admin" };
    });

    /// <summary>Makes an admin a user. The primary admin cannot be demoted.</summary>
    public UserChange Demote(string number, string actor) => Change(number, actor, (c, user, now) =>
    {
        if (user.Primary)
        {
            throw IdentityException.Refused($"{user.Number} is the primary admin and cannot be demoted (a physical reset makes another primary admin)");
        }
        if (user.Role == UserInfo.UserRole)
        {
            return new UserChange { User = user, Message = $"{user.Number} is not an admin" };
        }
        Execute(c, "UPDATE users SET role = 'user' WHERE number = $a", user.Number);
        Event(c, now, "demoted", user.Number, actor, null);
        return new UserChange { User = FindUser(c, user.Number), Changed = true, Message = $"{user.Number} is now a user" };
    });

    /// <summary>
    /// Sets a user's display name, cleaned; from then on it is shown as verified. An admin types it, so a name that would
    /// be cut is refused rather than shortened behind their back (profile names, which anyone sets, are cut instead).
    /// </summary>
    public UserChange Rename(string number, string name, string actor)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw IdentityException.Invalid("the name is empty");
        }
        if (name.Trim().Length > DisplayNames.MaxLength)
        {
            throw IdentityException.Invalid($"the name is {name.Trim().Length} characters; at most {DisplayNames.MaxLength}");
        }
        var clean = DisplayNames.Clean(name);
        if (clean.Length == 0)
        {
            throw IdentityException.Invalid("the name is empty once control and formatting characters are removed");
        }
        return Change(number, actor, (c, user, now) =>
        {
            if (user.NameVerified && user.Name == clean)
            {
                return new UserChange { User = user, Message = $"{user.Number} is already called \"{clean}\"" };
            }
            Execute(c, "UPDATE users SET name = $b, name_verified = 1 WHERE number = $a", user.Number, clean);
            Event(c, now, "renamed", user.Number, actor, clean);
            return new UserChange { User = FindUser(c, user.Number), Changed = true, Message = $"{user.Number} is now called \"{clean}\"" };
        });
    }

    /// <summary>Lifts a sender's block (in force or expired) and forgets its failed attempts and block level.</summary>
    public UserChange Unblock(string number, string actor)
    {
        var digits = Number(number);
        return _database.Use(c =>
        {
            var now = Now();
            using var tx = c.BeginTransaction();
            if (!Exists(c, "SELECT 1 FROM blocks WHERE sender = $a", digits))
            {
                throw IdentityException.NotFound($"{digits} is not blocked");
            }
            Execute(c, "DELETE FROM blocks WHERE sender = $a", digits);
            Execute(c, "DELETE FROM failed_attempts WHERE sender = $a", digits);
            Event(c, now, "unblocked", digits, actor, null);
            tx.Commit();
            _blocks.TryRemove(digits, out _);
            return new UserChange { Changed = true, Message = $"{digits} is unblocked; its earlier blocks and failed attempts are forgotten" };
        });
    }

    private UserChange Change(string number, string actor, Func<SqliteConnection, UserInfo, long, UserChange> change)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        var digits = Number(number);
        return _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            var user = FindUser(c, digits) ?? throw IdentityException.NotFound($"{digits} is not a registered user (boxbot users list)");
            var result = change(c, user, Now());
            tx.Commit();
            return result;
        });
    }

    private static string Number(string number) =>
        PhoneNumbers.Normalize(number) ?? throw IdentityException.Invalid($"not a phone number: \"{number}\" (digits with the country code, such as 4915112345678)");
}
