using System.CommandLine;
using BoxBot.Cli.Internal;

namespace BoxBot.Cli;

/// <summary>The <c>boxbot</c> command line. <c>cmd/boxbot/Program.cs</c> only calls <see cref="RunAsync"/>.</summary>
public static class CliApp
{
    // Above dev up's own stop sequence (daemon shutdown budget 5 s + kill grace), below any service manager's patience.
    private static readonly TimeSpan TerminationTimeout = TimeSpan.FromSeconds(10);

    internal const string Description =
        "boxbot: administer a boxbot appliance from its own shell (over SSH).\n\n" +
        "Talks to the daemons over their Unix sockets in /run/boxbot, or under $BOXBOT_HOME when that is set " +
        "(a development tree made by `boxbot dev up`). Read commands accept --json for scripts: one JSON document on stdout, " +
        "also when the command fails ({\"error\": {\"kind\", \"message\", \"exit_code\"}}).\n" +
        "Exit codes: 0 ok, 1 failure (for status: a daemon is down), 2 usage error, 3 a sandbox job did not end ok, 4 doctor found a failure.";

    /// <summary>The whole command tree (also read by the tests that keep the README and docs/cli.md in step with it).</summary>
    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand(Description)
        {
            StatusCommand.Create(),
            DoctorCommand.Create(),
            ConfigCommand.Create(),
            VersionCommand.Create(),
            DevCommand.Create(),
            SandboxCommand.Create(),
            SecretsCommand.Create(),
            PackagesCommand.Create(),
            ApprovalsCommand.Create(),
            WhatsAppCommand.Create(),
            UsersCommand.Create(),
            CodeCommand.Create(),
            ChatCommand.Create(),
            LogCommand.Create(),
            Mesh.MeshCommand.Create(),
            Plugins.PluginsCommand.Create(),
        };
        root.Subcommands.Add(HelpCommand.Create(root));
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = BuildRoot();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return UsageErrors.Report(parsed);
        }
        Failures.Json = CommonOptions.JsonRequested(parsed);
        // Interactive `chat` handles Ctrl-C itself (it cancels the running turn, not the command).
        var ownsInterrupts = parsed.CommandResult.Command.Name == ChatCommand.Name;
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = ownsInterrupts ? null : TerminationTimeout });
    }
}
