using BoxBot.Agent;
using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Agent,
    "conversations, the LLM loop, users, memory, secrets and approvals (this build: the secret store and running scripts in the sandbox for admins).",
    args, static () => new AgentService());
