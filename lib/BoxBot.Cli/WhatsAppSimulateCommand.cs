using System.CommandLine;

namespace BoxBot.Cli;

internal static class WhatsAppSimulateCommand
{
    public static Command Create() => new("simulate", "Post a correctly signed inbound delivery to the local webhook (not yet built).");
}
