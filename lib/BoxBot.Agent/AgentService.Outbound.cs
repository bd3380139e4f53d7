using BoxBot.Hosting;

namespace BoxBot.Agent;

// Outbound WhatsApp messages (whatsapp.send): filled in with lib/BoxBot.WhatsApp/Outbound.
public sealed partial class AgentService
{
    private Storage.WhatsAppLog? _whatsAppLog;

    private static void StartOutbound(DaemonContext context) => _ = context;

    private static ValueTask DisposeOutboundAsync() => ValueTask.CompletedTask;
}
