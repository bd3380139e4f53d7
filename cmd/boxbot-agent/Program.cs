using BoxBot.Agent;
using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Agent,
    "conversations, the LLM loop, users, memory, secrets and approvals (this build: the secret store, running scripts in the sandbox for admins, and approved packages for the sandbox's venv).",
    args, static () => new AgentService());
