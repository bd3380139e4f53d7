using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

/// <summary><c>boxbot mesh device add|remove|list</c>: the household broker's device users.</summary>
internal static class MeshDeviceCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "The device's id on the mesh: 1-64 of A-Z, a-z, 0-9, '_' or '-' (no dots)." };
        var type = new Option<string>("--type") { Description = "Its device type (informational), e.g. reachy_mini." };
        var mayCall = new Option<string[]>("--may-call")
        {
            Description = "A device whose functions it may call (repeat for more; the box's own id lets it call the box's get_status and notify). " +
                "The broker refuses every other call. Never the box's admin device.",
            AllowMultipleArgumentsPerToken = true,
        };
        var legacy = new Option<bool>("--legacy-inbox")
        {
            Description = "For clients that cannot set an inbox prefix (the reference Python runtime): it may read the shared _INBOX.>, " +
                "where every such client's replies go (never the box's). See docs/mesh.md.",
        };
        var addOut = MeshAdminCommand.OutOption();
        var addJson = CommonOptions.Json();
        var add = new Command("add",
            "Add a device user to the household broker and write its credentials once, mode 0600, into --out: ID.creds (NATS), " +
            "ID.creds.json (the Device Connect portal's shape) and ID.ca.crt when the broker uses TLS. The box keeps no copy of its seed.")
        { id, type, mayCall, legacy, addOut, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(id)!;
            var (files, problem) = MeshCredentialFiles.Prepare(parse.GetValue(addOut) ?? ".", name);
            if (files is null)
            {
                return Failures.Fail(problem!);
            }
            var request = new MeshDeviceAddRequest
            {
                DeviceId = name,
                DeviceType = parse.GetValue(type),
                MayCall = parse.GetValue(mayCall) ?? [],
                LegacyInbox = parse.GetValue(legacy),
            };
            var (issued, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.AddDevice, request,
                MeshJsonContext.Default.MeshDeviceAddRequest, MeshJsonContext.Default.MeshIssued, null, ct);
            return issued is null ? code : MeshAdminCommand.Written(issued, files, parse.GetValue(addJson));
        });

        var removeId = new Argument<string>("ID") { Description = "The device user to remove." };
        var removeJson = CommonOptions.Json();
        var remove = new Command("remove",
            "Remove a device user: its key is revoked in the broker's account, the broker reloads and closes its connections; nobody else's.")
        { removeId, removeJson };
        remove.SetAction((parse, ct) => MeshAdminCommand.RemoveAsync(parse.GetValue(removeId)!, "device", parse.GetValue(removeJson), ct));

        var listJson = CommonOptions.Json();
        var list = new Command("list", "List the household broker's device users: id, type, the devices each may call, legacy inbox, when added.") { listJson };
        list.SetAction((parse, ct) => MeshAdminCommand.ListAsync("device", parse.GetValue(listJson), ct));

        return new Command("device", "The household broker's device users: add (credentials written once), remove (revoked), list.") { add, remove, list };
    }
}
