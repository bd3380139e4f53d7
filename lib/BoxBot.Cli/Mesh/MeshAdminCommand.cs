using System.CommandLine;
using System.Globalization;
using System.Text;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

/// <summary><c>boxbot mesh admin add|remove|list</c>: people's and tools' admin users of the household broker.</summary>
internal static class MeshAdminCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The admin's name: 1-64 of A-Z, a-z, 0-9, '_' or '-'." };
        var legacy = new Option<bool>("--legacy-inbox") { Description = "For tools that cannot set an inbox prefix (they then read the shared _INBOX.>)." };
        var addOut = OutOption();
        var addJson = CommonOptions.Json();
        var add = new Command("add",
            "Add an admin user (a person or a tool): it may call every device, the box's admin device included, and read the tenant's subjects. " +
            "Its credentials are written once, mode 0600, into --out (NAME.creds, NAME.creds.json, NAME.ca.crt with TLS).")
        { name, legacy, addOut, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var admin = parse.GetValue(name)!;
            var (files, problem) = MeshCredentialFiles.Prepare(parse.GetValue(addOut) ?? ".", admin);
            if (files is null)
            {
                return Failures.Fail(problem!);
            }
            var (issued, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.AddAdmin,
                new MeshAdminAddRequest { Name = admin, LegacyInbox = parse.GetValue(legacy) },
                MeshJsonContext.Default.MeshAdminAddRequest, MeshJsonContext.Default.MeshIssued, null, ct);
            return issued is null ? code : Written(issued, files, parse.GetValue(addJson));
        });

        var removeName = new Argument<string>("NAME") { Description = "The admin user to remove." };
        var removeJson = CommonOptions.Json();
        var remove = new Command("remove", "Remove an admin user: revoked in the broker's account, its connections closed at the reload.") { removeName, removeJson };
        remove.SetAction((parse, ct) => RemoveAsync(parse.GetValue(removeName)!, "admin", parse.GetValue(removeJson), ct));

        var listJson = CommonOptions.Json();
        var list = new Command("list", "List the household broker's admin users.") { listJson };
        list.SetAction((parse, ct) => ListAsync("admin", parse.GetValue(listJson), ct));

        return new Command("admin", "The household broker's admin users (people and tools): add (credentials written once), remove (revoked), list.")
        {
            add, remove, list,
        };
    }

    public static Option<string> OutOption() => new("--out")
    {
        Description = "The folder the credential files are written to (default: the current folder). Existing files are never overwritten.",
    };

    public static int Written(MeshIssued issued, MeshCredentialFiles files, bool json)
    {
        IReadOnlyList<string> written;
        try
        {
            written = files.Write(issued);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failures.Fail($"the user {issued.User.Name} was made, but its credentials could not be written ({e.Message}); its seed is lost: " +
                $"`boxbot mesh {issued.User.Kind} remove {issued.User.Name}` and add it again");
        }
        if (json)
        {
            CliJson.Print(issued.User, MeshJsonContext.Default.MeshUserInfo);
        }
        else
        {
            Console.WriteLine($"mesh {issued.User.Kind} {issued.User.Name} added ({issued.User.PublicKey})");
            foreach (var path in written)
            {
                Console.WriteLine($"  wrote {path} (0600)");
            }
            Console.WriteLine($"  broker: {string.Join(", ", issued.Urls)}; tenant {issued.Tenant}");
        }
        return ExitCodes.Ok;
    }

    public static async Task<int> RemoveAsync(string name, string kind, bool json, CancellationToken ct)
    {
        var (removed, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.RemoveUser, new MeshUserRemoveRequest(name, kind),
            MeshJsonContext.Default.MeshUserRemoveRequest, MeshJsonContext.Default.MeshUserInfo, null, ct);
        if (removed is null)
        {
            return code;
        }
        if (json)
        {
            CliJson.Print(removed, MeshJsonContext.Default.MeshUserInfo);
        }
        else
        {
            Console.WriteLine($"mesh {kind} {name} removed: revoked ({removed.PublicKey}); the broker closes its connections");
        }
        return code;
    }

    public static async Task<int> ListAsync(string kind, bool json, CancellationToken ct)
    {
        var (list, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.Users, new EmptyParams(),
            ContractsJsonContext.Default.EmptyParams, MeshJsonContext.Default.MeshUserList, null, ct);
        if (list is null)
        {
            return code;
        }
        var users = list.Users.Where(u => u.Kind == kind).ToList();
        if (json)
        {
            CliJson.Print(new MeshUserList(users), MeshJsonContext.Default.MeshUserList);
        }
        else if (users.Count == 0)
        {
            await Console.Error.WriteLineAsync($"boxbot: no mesh {kind} users (`boxbot mesh {kind} add`)");
        }
        else
        {
            var text = new StringBuilder();
            var width = Math.Max(4, users.Max(u => u.Name.Length));
            text.Append(CultureInfo.InvariantCulture, $"{"NAME".PadRight(width)}  ADDED                 {(kind == "device" ? "TYPE             MAY CALL" : "")}\n");
            foreach (var u in users)
            {
                var added = u.AddedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";
                var extra = kind == "device" ? $"{u.DeviceType ?? "-",-15}  {(u.MayCall.Count == 0 ? "-" : string.Join(", ", u.MayCall))}" : "";
                text.Append(CultureInfo.InvariantCulture, $"{u.Name.PadRight(width)}  {added,-20}  {extra}{(u.LegacyInbox ? "  (legacy inbox)" : "")}\n");
            }
            Console.Write(text.ToString());
        }
        return code;
    }
}
