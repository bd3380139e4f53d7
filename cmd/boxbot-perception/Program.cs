using BoxBot.Contracts;
using BoxBot.Hosting;

return await DaemonMain.RunAsync(Daemons.Perception,
    "camera, microphone and buttons to low-level events, with a privacy switch (not built yet: this build serves its control socket and status only)",
    args, static () => new NoService());
