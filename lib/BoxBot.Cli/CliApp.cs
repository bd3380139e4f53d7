using System.CommandLine;

namespace BoxBot.Cli;

/// <summary>The <c>boxbot</c> command line. <c>cmd/boxbot/Program.cs</c> only calls <see cref="RunAsync"/>.</summary>
public static class CliApp
{
    // Above dev up's own stop sequence (daemon shutdown budget 5 s + kill grace), below any service manager's patience.
    private static readonly TimeSpan TerminationTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand(
            "boxbot: administer a boxbot appliance from its own shell (over SSH).\n\n" +
            "Talks to the daemons over their Unix sockets in /run/boxbot, or under $BOXBOT_HOME when that is set " +
            "(a development tree made by `boxbot dev up`). Read commands accept --json for scripts.\n" +
            "Exit codes: 0 ok, 1 failure (for status: a daemon is down), 2 usage error, 3 a sandbox job did not end ok, 4 doctor found a failure.")
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
            ChatCommand.Instance,
            LogCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync("boxbot: " + error.Message);
            }
            await Console.Error.WriteLineAsync("Run 'boxbot --help' for usage.");
            return ExitCodes.Usage;
        }
        // Interactive `chat` handles Ctrl-C itself (it cancels the running turn, not the command).
        var ownsInterrupts = parsed.CommandResult.Command == ChatCommand.Instance;
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = ownsInterrupts ? null : TerminationTimeout });
    }
}
