using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Sandbox;
using BoxBot.Sandbox.Service;

// `boxbot-sandbox exec` is the per-job launcher the runner starts inside fresh namespaces: it confines
// itself and execs the interpreter. It must run before anything else (no host, no extra threads).
if (args is ["exec"])
{
    return JobLauncher.Exec();
}

// `boxbot-sandbox egress` is the egress proxy (boxbot-egress.service): a daemon of its own, in its own unit with the
// network the runner lacks.
if (args is ["egress", ..])
{
    return await EgressMain.RunAsync(args[1..]);
}

return await DaemonMain.RunAsync(Daemons.Sandbox,
    "runs agent-written Python scripts, one kernel-confined process per job (sandbox.run, for the agent's uid and root)",
    args, static () => new SandboxService(),
    "Subcommands: `boxbot-sandbox egress` is the egress proxy, the only way network = internet jobs reach out (its own unit, " +
    "boxbot-egress; `boxbot-sandbox egress --help`); `boxbot-sandbox exec` is the per-job launcher the runner starts inside a " +
    "job's namespaces, not for people.");
