using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

// Inbound WhatsApp events from the webhook (inbound.whatsapp): messages pass the user registry's door (blocked and
// unregistered senders go no further), then are recorded once each, by key, in the agent's database.
public sealed partial class AgentService
{
    private AgentDatabase? _database;

    private void StartInbound(DaemonContext context)
    {
        _database = AgentDatabase.Open(context.StateDir);
        var log = new WhatsAppLog(_database, TimeProvider.System);
        _whatsAppLog = log;
        StartIdentity(context);
        // Only the webhook's own user may hand the agent inbound messages (root is there for development, where
        // every daemon runs as the developer).
        var inbound = new WhatsAppInbound(log, _registry!, context.Loggers.CreateLogger<WhatsAppInbound>(), OnWhatsAppMessage);
        var webhook = CallerPolicy.Of(Principal.Root, Principal.User(Daemons.Webhook.ServiceUser));
        context.Server.Map(WhatsAppMethods.Inbound, webhook, WhatsAppJsonContext.Default.WhatsAppInboundBatch,
            WhatsAppJsonContext.Default.WhatsAppInboundAck, (batch, _, _) => ValueTask.FromResult(inbound.Receive(batch)));
    }

    private ValueTask DisposeInboundAsync()
    {
        _database?.Dispose();
        return ValueTask.CompletedTask;
    }
}
