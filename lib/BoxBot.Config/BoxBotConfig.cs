using BoxBot.Contracts;

namespace BoxBot.Config;

/// <summary>
/// The runtime configuration of the box: immutable, one record per <c>boxbot.toml</c> section.
/// <see cref="ConfigLoader"/> builds it from the file; command-line flags are applied on top with <c>with</c>.
/// </summary>
public sealed record BoxBotConfig
{
    public BoxOptions Box { get; init; } = BoxOptions.Default;
    public IpcOptions Ipc { get; init; } = IpcOptions.Default;
    public AgentOptions Agent { get; init; } = AgentOptions.Default;
    public SandboxOptions Sandbox { get; init; } = SandboxOptions.Default;
    public WebhookOptions Webhook { get; init; } = WebhookOptions.Default;
    public WhatsAppOptions WhatsApp { get; init; } = WhatsAppOptions.Default;
    public PerceptionOptions Perception { get; init; } = PerceptionOptions.Default;
    public PluginHostOptions PluginHost { get; init; } = PluginHostOptions.Default;
    public MeshSettings Mesh { get; init; } = MeshSettings.Default;
    public PluginsOptions Plugins { get; init; } = PluginsOptions.Default;

    /// <summary>The built-in defaults: what an empty or missing <c>boxbot.toml</c> gives.</summary>
    public static BoxBotConfig Default { get; } = new();

    /// <summary>The group <paramref name="daemon"/>'s socket is chowned to; <c>""</c> when unset.</summary>
    public string SocketGroupFor(DaemonInfo daemon)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        return daemon.Name switch
        {
            "agent" => Agent.SocketGroup,
            "sandbox" => Sandbox.SocketGroup,
            "webhook" => Webhook.SocketGroup,
            "perception" => Perception.SocketGroup,
            "plugin-host" => PluginHost.SocketGroup,
            _ => throw new ArgumentException($"unknown daemon '{daemon.Name}'", nameof(daemon)),
        };
    }
}
