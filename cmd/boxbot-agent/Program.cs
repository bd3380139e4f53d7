using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Agent,
    "conversations, the LLM loop, users, memory, secrets and approvals (this build: control socket and status only).",
    args, static () => new NoService());
