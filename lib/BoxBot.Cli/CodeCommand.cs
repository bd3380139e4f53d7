using System.CommandLine;
using System.Globalization;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class CodeCommand
{
    private const string JsonShape =
        "--json prints {\"code\", \"kind\" (user | bootstrap), \"expires_at\" (Unix seconds), \"issued_by\" (console:<unix user>), \"remaining_this_hour\"}.";

    public static Command Create() => new("code",
        "One-time registration codes: how a new person gets to talk to the box (admins only: root or the admin group). " +
        "A code is 6 digits, works once and for 10 minutes; the person sends it, alone, to the box's WhatsApp number. " +
        "Each admin has at most one active code (a new one revokes the old) and may ask for at most 3 an hour. " +
        "The box keeps only a keyed hash of each code. See docs/users.md.")
    {
        Issue("new", UserMethods.NewCode,
            "Issue a code that registers one new person as a user. Give it to them out of band (in person, by phone), never " +
            "through a channel others can read; whoever sends it first is registered, and gets a welcome message. " +
            "Asking for another code revokes this one; at most 3 an hour. " + JsonShape + " " +
            "Exit code 0 with a code; 1 when refused (3 codes this hour already) or the agent is unreachable."),
        Issue("bootstrap", UserMethods.BootstrapCode,
            "Issue the bootstrap code: whoever sends it first becomes the primary admin. Only while no admin exists, or within " +
            "the window a physical reset (the box's reset button) opens; afterwards it is refused for good. Needs root or the " +
            "admin group, which stands for physical presence: a shell on the box itself. " + JsonShape + " " +
            "Exit code 0 with a code; 1 when refused (bootstrap is closed: ask an admin for `boxbot code new`) or the agent is unreachable."),
    };

    private static Command Issue(string name, string method, string description)
    {
        var json = CommonOptions.Json();
        var command = new Command(name, description) { json };
        command.SetAction(async (parse, ct) =>
        {
            var (result, code) = await AgentCall.CallAsync(method, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
                UsersJsonContext.Default.RegistrationCode, null, ct);
            if (result is not null)
            {
                Console.Write(parse.GetValue(json) ? CliJson.Format(result, UsersJsonContext.Default.RegistrationCode) + "\n" : Describe(result));
            }
            return code;
        });
        return command;
    }

    private static string Describe(RegistrationCode code)
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds(code.ExpiresAt);
        var minutes = Math.Max(0, (int)Math.Round((expires - DateTimeOffset.UtcNow).TotalMinutes));
        var validity = $"valid until {expires.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture)} UTC " +
            $"({minutes} minute{(minutes == 1 ? "" : "s")}), once.";
        var remaining = code.RemainingThisHour == 0 ? "no more codes this hour"
            : $"{code.RemainingThisHour} more code{(code.RemainingThisHour == 1 ? "" : "s")} this hour";
        return code.Kind == "bootstrap"
            ? $"bootstrap code: {code.Code}\n" +
              $"{validity} Whoever sends it first becomes the primary admin: send these six digits, alone, to the box's WhatsApp " +
              $"number from the phone of the person who will run the box. Asking for another bootstrap code revokes this one; " +
              $"{remaining.Replace("code", "bootstrap code", StringComparison.Ordinal)}.\n"
            : $"registration code: {code.Code}\n" +
              $"{validity} Give it to the new person out of band (in person, by phone); they send these six digits, alone, to " +
              $"the box's WhatsApp number. Asking for another code revokes this one; {remaining}.\n";
    }
}
