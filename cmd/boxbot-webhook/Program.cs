using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Webhook;

return await DaemonMain.RunAsync(Daemons.Webhook,
    "the WhatsApp Cloud API webhook on a loopback port, the box's only inbound listener (this build: answers 404 to everything; status on its control socket).",
    args, static () => new WebhookService());
