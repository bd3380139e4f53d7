using BoxBot.Hosting;

namespace BoxBot.Agent;

// Inbound WhatsApp events from the webhook (inbound.whatsapp).
public sealed partial class AgentService
{
    private static void StartInbound(DaemonContext context) => _ = context;

    private static ValueTask DisposeInboundAsync() => ValueTask.CompletedTask;
}
