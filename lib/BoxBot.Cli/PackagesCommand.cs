using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class PackagesCommand
{
    // pip resolves (and waits for any install running) on the agent's side; that can take minutes on a slow link.
    internal static readonly TimeSpan PipCallTimeout = TimeSpan.FromMinutes(20);

    public static Command Create()
    {
        var specs = new Argument<string[]>("SPEC")
        {
            Description = "A requirement: NAME, NAME==VERSION or NAME>=A,<B (no spaces, extras, markers, URLs or options). Up to 10.",
            Arity = new ArgumentArity(1, 10),
        };
        var reason = new Option<string?>("--reason") { Description = "Why, for whoever decides (one line, at most 200 characters).", HelpName = "TEXT" };
        var requestJson = CommonOptions.Json();
        var request = new Command("request",
            "Ask for Python packages that sandbox scripts may import. Nothing is installed now: the agent asks pip which files the " +
            "request would install (wheels only, dependencies included, each with its sha256) and keeps that list as a pending " +
            "approval for 24 hours. `boxbot approvals approve ID` then installs exactly those files into the venv jobs read " +
            "(read-only) at /opt/boxbot/venv; any other bytes are refused. Packages that exist only as source (sdist) are refused, " +
            "because building them would run their code. Prints the approval; exit code 0 when it is pending.")
        { specs, reason, requestJson };
        request.SetAction(async (parse, ct) =>
        {
            var (approval, code) = await AgentCall.CallAsync(PackageMethods.Request,
                new PackageRequest { Specs = parse.GetValue(specs) ?? [], Reason = parse.GetValue(reason) },
                PackagesJsonContext.Default.PackageRequest, PackagesJsonContext.Default.Approval, PipCallTimeout, ct);
            if (approval is not null)
            {
                Console.Write(parse.GetValue(requestJson) ? CliJson.Format(approval, PackagesJsonContext.Default.Approval) + "\n" : ApprovalText.Details(approval));
            }
            return code;
        });

        var listJson = CommonOptions.Json();
        var list = new Command("list",
            "List the packages installed in the venv of approved packages (name and version, from their dist-info), which every " +
            "sandbox job can import.")
        { listJson };
        list.SetAction(async (parse, ct) =>
        {
            var (installed, code) = await AgentCall.CallAsync(PackageMethods.List, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
                PackagesJsonContext.Default.InstalledPackageList, null, ct);
            if (installed is null)
            {
                return code;
            }
            if (parse.GetValue(listJson))
            {
                CliJson.Print(installed, PackagesJsonContext.Default.InstalledPackageList);
            }
            else if (installed.Packages.Count == 0)
            {
                await Console.Error.WriteLineAsync($"boxbot: no approved packages are installed ({installed.Venv})");
            }
            else
            {
                Console.Write(string.Concat(installed.Packages.Select(p => $"{p.Name} {p.Version}\n")));
            }
            return code;
        });
        return new Command("packages",
            "Python packages for sandbox scripts (admins). Installed only after a human approves the exact files; see `boxbot approvals`.")
        { request, list };
    }
}
