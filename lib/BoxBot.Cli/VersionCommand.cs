using System.CommandLine;
using System.Runtime.InteropServices;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class VersionCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("version", "Print the version of this boxbot build.") { json };
        command.SetAction(parse =>
        {
            var report = new VersionReport(BuildInfo.Version, RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier);
            Console.WriteLine(parse.GetValue(json)
                ? CliJson.Format(report, CliJsonContext.Default.VersionReport)
                : $"boxbot {report.Version} ({report.Runtime}, {report.RuntimeIdentifier})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
