using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.PluginHost;

return await DaemonMain.RunAsync(Daemons.PluginHost,
    "installs and runs plugins and speaks for the box on the NATS mesh (this build: mesh connection when [plugin-host] mesh_url is set, and status).",
    args, static () => new PluginHostService());
