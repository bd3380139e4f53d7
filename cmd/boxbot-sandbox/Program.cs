using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Sandbox,
    "runs agent-written Python scripts, one kernel-confined process per job (this build: control socket and status only).",
    args, static () => new NoService());
