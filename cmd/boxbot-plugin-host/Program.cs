using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.PluginHost;

return await DaemonMain.RunAsync(Daemons.PluginHost,
    "the box on the Device Connect mesh: its device and admin device, the devices it sees, calls for the agent and admins, the household broker's users, and the plugins it installs (each runs confined in the sandbox runner)",
    args, static () => new PluginHostService());
