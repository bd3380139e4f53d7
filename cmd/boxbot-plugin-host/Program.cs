using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.PluginHost;

return await DaemonMain.RunAsync(Daemons.PluginHost,
    "plugins and the box's place on the NATS mesh (this build: a mesh connection when [plugin-host] mesh_url is set, and status; plugins are not built yet)",
    args, static () => new PluginHostService());
