namespace BoxBot.Contracts;

/// <summary>One of the five long-running boxbot processes.</summary>
/// <param name="Name">Short name used in logs, status output and config sections (<c>agent</c>).</param>
/// <param name="Executable">File name of the Native AOT executable (<c>boxbot-agent</c>).</param>
/// <param name="SocketName">File name of its control socket in the runtime folder.</param>
/// <param name="StateName">Folder name of its state under the state root (<c>/var/lib/&lt;StateName&gt;</c>).</param>
/// <param name="ServiceUser">The Unix user the installed unit runs it as.</param>
public sealed record DaemonInfo(string Name, string Executable, string SocketName, string StateName, string ServiceUser);

/// <summary>The fixed set of daemons, in start order.</summary>
public static class Daemons
{
    public static readonly DaemonInfo Agent = new("agent", "boxbot-agent", "agent.sock", "boxbot", "boxbot");
    public static readonly DaemonInfo Sandbox = new("sandbox", "boxbot-sandbox", "sandbox.sock", "boxbot-sandbox", "boxbot-sandbox");
    public static readonly DaemonInfo Webhook = new("webhook", "boxbot-webhook", "webhook.sock", "boxbot-webhook", "boxbot-webhook");
    public static readonly DaemonInfo Perception = new("perception", "boxbot-perception", "perception.sock", "boxbot-perception", "boxbot-perception");
    public static readonly DaemonInfo PluginHost = new("plugin-host", "boxbot-plugin-host", "plugins.sock", "boxbot-plugins", "boxbot-plugins");

    /// <summary>Start order: the sandbox and agent first, since the others call the agent.</summary>
    public static readonly IReadOnlyList<DaemonInfo> All = [Sandbox, Agent, Webhook, Perception, PluginHost];

    public static DaemonInfo? Find(string name) =>
        All.FirstOrDefault(d => d.Name == name || d.Executable == name);
}
