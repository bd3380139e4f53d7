using System.CommandLine;

namespace BoxBot.Cli;

internal static class WhatsAppCommand
{
    public static Command Create() => new("whatsapp", "The WhatsApp channel: simulate an inbound message, send one (admins).")
    {
        WhatsAppSimulateCommand.Create(),
    };
}
