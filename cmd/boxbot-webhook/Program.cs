using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Webhook;

return await DaemonMain.RunAsync(Daemons.Webhook,
    "the WhatsApp Cloud API webhook on a loopback port, the box's only inbound listener: verifies signed deliveries, spools them on " +
    "disk and hands them to the agent",
    args, static () => new WebhookService());
