using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class ApprovalsCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all") { Description = "Also show decided, failed and expired approvals (the newest 200 are kept)." };
        var listJson = CommonOptions.Json();
        var list = new Command("list", "List pending approvals (oldest first): id, state, since when, who asked, the packages.") { all, listJson };
        list.SetAction(async (parse, ct) =>
        {
            var (result, code) = await AgentCall.CallAsync(ApprovalMethods.List, new ApprovalListRequest(parse.GetValue(all)),
                PackagesJsonContext.Default.ApprovalListRequest, PackagesJsonContext.Default.ApprovalList, null, ct);
            if (result is null)
            {
                return code;
            }
            if (parse.GetValue(listJson))
            {
                CliJson.Print(result, PackagesJsonContext.Default.ApprovalList);
            }
            else if (result.Approvals.Count == 0)
            {
                await Console.Error.WriteLineAsync(parse.GetValue(all) ? "boxbot: no approvals" : "boxbot: no pending approvals");
            }
            else
            {
                Console.Write(ApprovalText.Table(result.Approvals));
            }
            return code;
        });

        var showId = Id();
        var showJson = CommonOptions.Json();
        var show = new Command("show",
            "Show one approval in full: who asked and why, and every wheel it installs (file name and sha256, dependencies included).")
        { showId, showJson };
        show.SetAction(async (parse, ct) =>
        {
            var (approval, code) = await AgentCall.CallAsync(ApprovalMethods.Show, new ApprovalId(parse.GetValue(showId)!),
                PackagesJsonContext.Default.ApprovalId, PackagesJsonContext.Default.Approval, null, ct);
            if (approval is not null)
            {
                Console.Write(parse.GetValue(showJson) ? CliJson.Format(approval, PackagesJsonContext.Default.Approval) + "\n" : ApprovalText.Details(approval));
            }
            return code;
        });

        var approveId = Id();
        var approveJson = CommonOptions.Json();
        var approve = new Command("approve",
            "Approve a pending request. Packages: the agent installs exactly the wheels `approvals show` lists, each pinned to its sha256, " +
            "into the venv jobs read; a file that changed since the request is refused and nothing is installed; waits for the " +
            "install (the outcome is in the audit log either way). A mesh call: the agent makes the call it is waiting to make. " +
            "A plugin: the plugin host installs the bundle it staged, its digest checked again, and loads it. " +
            "Exit code 0 when installed or approved, 1 when the install failed.")
        { approveId, approveJson };
        approve.SetAction(async (parse, ct) =>
        {
            var (approval, code) = await AgentCall.CallAsync(ApprovalMethods.Approve, new ApprovalId(parse.GetValue(approveId)!),
                PackagesJsonContext.Default.ApprovalId, PackagesJsonContext.Default.Approval, PackagesCommand.PipCallTimeout, ct);
            if (approval is null)
            {
                return code;
            }
            if (parse.GetValue(approveJson))
            {
                CliJson.Print(approval, PackagesJsonContext.Default.Approval);
            }
            else if (approval.State == ApprovalStates.Installed && approval.Plugin is null)
            {
                Console.WriteLine($"approval {approval.Id}: installed {ApprovalText.Packages(approval.Packages)}");
            }
            else if (approval.State == ApprovalStates.Approved && approval.Call is { } call)
            {
                Console.WriteLine($"approval {approval.Id}: approved: the agent calls {call.DeviceId}.{call.Function} now");
            }
            if (approval.State == ApprovalStates.Installed && approval.Plugin is { } plugin)
            {
                Console.WriteLine($"approval {approval.Id}: installed plugin {plugin.PluginId} {plugin.Version} (see `boxbot plugins info {plugin.PluginId}`)");
            }
            if (approval.State is not (ApprovalStates.Installed or ApprovalStates.Approved))
            {
                await Console.Error.WriteLineAsync($"boxbot: approval {approval.Id}: {approval.State}: {approval.Error}");
                return ExitCodes.Failure;
            }
            return ExitCodes.Ok;
        });

        var denyId = Id();
        var denyJson = CommonOptions.Json();
        var deny = new Command("deny", "Deny a pending request: nothing is installed, and the decision is kept in the audit log.") { denyId, denyJson };
        deny.SetAction(async (parse, ct) =>
        {
            var (approval, code) = await AgentCall.CallAsync(ApprovalMethods.Deny, new ApprovalId(parse.GetValue(denyId)!),
                PackagesJsonContext.Default.ApprovalId, PackagesJsonContext.Default.Approval, null, ct);
            if (approval is not null)
            {
                Console.WriteLine(parse.GetValue(denyJson)
                    ? CliJson.Format(approval, PackagesJsonContext.Default.Approval)
                    : $"approval {approval.Id}: denied; nothing installed");
            }
            return code;
        });
        return new Command("approvals",
            "Decide what waits for a human (admins): package requests from `boxbot packages request`, mesh calls the agent's policy " +
            "says to ask about, and plugins an admin user sent over the mesh. A pending package approval expires after 24 hours, a mesh call's after 2 minutes (the agent waits that long); " +
            "at most 16 wait at once. Every package decision and install is appended to the agent's packages-audit.log.")
        { list, show, approve, deny };
    }

    private static Argument<string> Id() => new("ID") { Description = "The approval's id (8 characters, as `boxbot approvals list` shows it)." };
}
