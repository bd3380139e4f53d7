using BoxBot.Agent;
using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Agent,
    "conversations with the language model and its tools, the user registry and codes, memory, tasks and skills, secrets, " +
    "package approvals, the WhatsApp inbox and outbound messages",
    args, static () => new AgentService());
