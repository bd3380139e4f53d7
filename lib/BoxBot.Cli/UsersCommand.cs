using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class UsersCommand
{
    public static Command Create()
    {
        var blocked = new Option<bool>("--blocked")
        {
            Description = "List the blocked senders instead: number, how far the block goes (1 and 2 of 3 end after an hour; the third is for good), since when.",
        };
        var listJson = CommonOptions.Json();
        var list = new Command("list",
            "List the registered users: number, role (the primary admin as \"admin (primary)\"), name (\"(unverified)\" while it is " +
            "the one their WhatsApp profile gave), when registered and when last seen, in UTC. " +
            "--json prints {\"users\": [{\"number\", \"name\", \"name_verified\", \"role\", \"primary\", \"created_at\", \"last_seen_at\"}], " +
            "\"bootstrap_open\"}; with --blocked {\"blocked\": [{\"number\", \"level\", \"permanent\", \"until\", \"since\"}], \"bootstrap_open\"} " +
            "(times in Unix seconds; a null key is left out).")
        { blocked, listJson };
        list.SetAction(async (parse, ct) =>
        {
            var showBlocked = parse.GetValue(blocked);
            var (result, code) = await AgentCall.CallAsync(UserMethods.List, new UserListRequest { Blocked = showBlocked },
                UsersJsonContext.Default.UserListRequest, UsersJsonContext.Default.UserList, null, ct);
            if (result is null)
            {
                return code;
            }
            // A list the agent left out reads as empty (the source-generated reader leaves it null).
            var users = result.Users ?? [];
            var blocks = result.Blocked ?? [];
            if (parse.GetValue(listJson))
            {
                CliJson.Print(result, UsersJsonContext.Default.UserList);
            }
            else if (showBlocked ? blocks.Count == 0 : users.Count == 0)
            {
                await Console.Error.WriteLineAsync(showBlocked ? "boxbot: no blocked senders"
                    : result.BootstrapOpen ? "boxbot: no registered users; while bootstrap is open, `boxbot code bootstrap` issues the first admin's code"
                    : "boxbot: no registered users");
            }
            else
            {
                Console.Write(showBlocked ? BlockTable(blocks) : UserTable(users));
            }
            return code;
        });

        var renameNumber = Number();
        var renameName = new Argument<string>("NAME")
        {
            Description = "The new display name, as one argument (quote it); at most 64 characters, control characters are removed.",
        };
        var renameJson = CommonOptions.Json();
        var rename = new Command("rename",
            "Set a user's display name (at most 64 characters). A name an admin set is shown as verified; until then the name is the " +
            "one the person's WhatsApp profile gave, which anyone can set to anything. Prints what changed; --json prints {\"user\", " +
            "\"changed\", \"message\"}. Exit code 0 also when the name was already that (changed false); 1 when the number is not a " +
            "registered user; 2 for a malformed number or a name that is empty or too long.")
        { renameNumber, renameName, renameJson };
        rename.SetAction((parse, ct) => ChangeAsync(UserMethods.Rename, parse.GetValue(renameNumber)!,
            new UserRename { Number = parse.GetValue(renameNumber)!, Name = parse.GetValue(renameName)! },
            UsersJsonContext.Default.UserRename, parse.GetValue(renameJson), ct));

        return new Command("users",
            "The people who may talk to the box (admins only: root or the admin group).\n" +
            "Only registered people can talk to boxbot: a message from anyone else gets nothing back, ever. A new person " +
            "registers by sending a one-time code (`boxbot code new`) to the box's WhatsApp number. Roles: admin (manages " +
            "users and codes) or user. The primary admin, who redeemed the bootstrap code, cannot be demoted or removed.\n" +
            "Blocks: 5 failed code attempts within 10 minutes block that sender for an hour; the third block is for good. A " +
            "blocked sender is dropped silently; `unblock` lifts the block and forgets the failed attempts.\n" +
            "Names come from WhatsApp profiles and are shown as (unverified) until an admin renames the user.\n" +
            "Exit code 0 when done, also when there was nothing to do (the message says so); 1 when refused (such as demoting " +
            "or removing the primary admin), when the number is not a registered user (for unblock: not blocked), or when the " +
            "agent is unreachable; 2 for a usage error such as a malformed number. See docs/users.md.")
        {
            list,
            Change("remove", UserMethods.Remove,
                "Unregister a user: they can no longer talk to the box (a new code is needed to come back). Their messages are " +
                "kept. The primary admin cannot be removed.",
                "Exit code 1 when the number is not a registered user or is the primary admin"),
            Change("promote", UserMethods.Promote, "Make a user an admin: they may then manage users and codes.",
                "Exit code 0 also when they are an admin already (changed false); 1 when the number is not a registered user"),
            Change("demote", UserMethods.Demote, "Make an admin a user. The primary admin cannot be demoted.",
                "Exit code 0 also when they are a user already (changed false); 1 when the number is not a registered user or is the primary admin"),
            Change("unblock", UserMethods.Unblock,
                "Lift a sender's block and forget their failed code attempts (the count towards a permanent block starts again).",
                "Exit code 1 when the number is not blocked"),
            rename,
        };
    }

    /// <summary>An admin operation on one number: prints the agent's message (or the <see cref="UserChange"/> as JSON).</summary>
    private static Command Change(string name, string method, string description, string exitCodes)
    {
        var number = Number();
        var json = CommonOptions.Json();
        var command = new Command(name,
            description + " Prints what changed; --json prints {\"user\", \"changed\", \"message\"}. " + exitCodes + "; 2 for a malformed number.")
        { number, json };
        command.SetAction((parse, ct) => ChangeAsync(method, parse.GetValue(number)!, new UserTarget { Number = parse.GetValue(number)! },
            UsersJsonContext.Default.UserTarget, parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> ChangeAsync<TParams>(string method, string number, TParams parameters,
        JsonTypeInfo<TParams> paramsType, bool json, CancellationToken ct)
    {
        if (CommonOptions.PhoneNumber(number, "NUMBER", international: false).Failure is { } invalid)
        {
            return Failures.Report(invalid);
        }
        var (result, code) = await AgentCall.CallAsync(method, parameters, paramsType, UsersJsonContext.Default.UserChange, null, ct);
        if (result is not null)
        {
            Console.WriteLine(json ? CliJson.Format(result, UsersJsonContext.Default.UserChange) : Printable(result.Message));
        }
        return code;
    }

    private static Argument<string> Number() => new("NUMBER")
    {
        Description = "The person's WhatsApp number: country code and number, such as 4915112345678 (a leading + and spaces are ignored; quote a number with spaces).",
    };

    private static string UserTable(IReadOnlyList<UserInfo> users)
    {
        var rows = users.Select(u => (
            u.Number,
            Role: u.Role + (u.Primary ? " (primary)" : ""),
            Name: u.Name.Length == 0 ? "-" : Printable(u.Name) + (u.NameVerified ? "" : " (unverified)"),
            Created: Utc(u.CreatedAt),
            LastSeen: u.LastSeenAt is { } seen ? Utc(seen) : "never")).ToList();
        var numberWidth = Math.Max("NUMBER".Length, rows.Max(r => r.Number.Length));
        var roleWidth = Math.Max("ROLE".Length, rows.Max(r => r.Role.Length));
        var nameWidth = Math.Max("NAME".Length, rows.Max(r => r.Name.Length));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"NUMBER".PadRight(numberWidth)}  {"ROLE".PadRight(roleWidth)}  {"NAME".PadRight(nameWidth)}  {"CREATED (UTC)",-16}  LAST SEEN (UTC)");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Number.PadRight(numberWidth)}  {r.Role.PadRight(roleWidth)}  {r.Name.PadRight(nameWidth)}  {r.Created,-16}  {r.LastSeen}");
        }
        return text.ToString();
    }

    private static string BlockTable(IReadOnlyList<BlockInfo> blocks)
    {
        var rows = blocks.Select(b => (
            b.Number,
            Block: b.Permanent ? $"blocked for good (level {b.Level})"
                : $"blocked {b.Level} of 3" + (b.Until is { } until ? $" until {Utc(until)} UTC" : ""),
            Since: Utc(b.Since))).ToList();
        var numberWidth = Math.Max("NUMBER".Length, rows.Max(r => r.Number.Length));
        var blockWidth = Math.Max("BLOCK".Length, rows.Max(r => r.Block.Length));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"NUMBER".PadRight(numberWidth)}  {"BLOCK".PadRight(blockWidth)}  SINCE (UTC)");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Number.PadRight(numberWidth)}  {r.Block.PadRight(blockWidth)}  {r.Since}");
        }
        return text.ToString();
    }

    private static string Utc(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>
    /// The agent already cleans names (they come from WhatsApp profiles, which anyone can set); this keeps the terminal safe
    /// from escape sequences and bidi overrides all the same. Line breaks stay.
    /// </summary>
    private static string Printable(string text) => text.Any(Unsafe) ? string.Concat(text.Select(c => Unsafe(c) ? '\uFFFD' : c)) : text;

    private static bool Unsafe(char c) => (char.IsControl(c) && c != '\n') || char.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
