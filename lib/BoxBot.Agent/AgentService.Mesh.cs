using BoxBot.Agent.Mesh;
using BoxBot.Agent.Tools;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

// The mesh: devices' notices arrive from the plugin host (inbound.mesh) and become turns of a mesh:<device> conversation
// acting for the primary admin; the agent calls devices through the plugin host with the mesh tools (Mesh/).
public sealed partial class AgentService
{
    private const int MaxNoticeChars = 1000;
    private MeshCalls? _mesh;
    private BoxBot.Config.MeshSettings _meshSettings = BoxBot.Config.MeshSettings.Default;

    private void StartMesh(DaemonContext context)
    {
        _meshSettings = context.Config.Mesh;
        _mesh = new MeshCalls(context.Paths.SocketPath(Daemons.PluginHost));
        var pluginHost = CallerPolicy.Of(Principal.Root, Principal.Self, Principal.User(Daemons.PluginHost.ServiceUser));
        context.Server.Map(InboundMeshMethods.Notify, pluginHost, MeshJsonContext.Default.MeshNotice, MeshJsonContext.Default.Done,
            (notice, _, _) => ValueTask.FromResult(OnMeshNotice(notice)));
    }

    /// <summary>The mesh tools, when the agent has the plugin host to call through.</summary>
    private IEnumerable<AgentTool> MeshTools() => _mesh is null || _packages is null
        ? []
        : [new MeshDevicesTool(_mesh), new MeshInvokeTool(_mesh, _meshSettings, _packages.Store)];

    /// <summary>A device's notice: into the conversation mesh:&lt;device&gt; acting for the primary admin, then a turn.</summary>
    private Done OnMeshNotice(MeshNotice notice)
    {
        var engine = _engine ?? throw new RpcException(RpcErrorCodes.Unavailable, "the box's agent has no language model (" + _llmState + ")");
        if (notice.Device != "unattributed" && !IsMeshToken(notice.Device))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "device must be a device id or \"unattributed\"");
        }
        if (string.IsNullOrWhiteSpace(notice.Text) || notice.Text.Length > MaxNoticeChars || notice.Text.Any(c => char.IsControl(c) && c != '\n'))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"text must be 1 to {MaxNoticeChars} characters without control characters");
        }
        if (notice.Priority is not ("low" or "normal" or "high"))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "priority must be low, normal or high");
        }
        var speaker = MeshSpeaker(notice.Device)
            ?? throw new RpcException(RpcErrorCodes.Refused, "the box has no primary admin yet to act for (`boxbot code bootstrap`)");
        var claimed = notice.ClaimedBy is { } c && c != notice.Device && IsMeshToken(c) ? $" It says it is {c}; nothing confirms that." : "";
        engine.AddInput(speaker, $"[A notice, priority {notice.Priority}.{claimed}]\n{notice.Text}", null);
        _log.LogInformation("mesh notice from {Device} (claimed: {Claimed}, priority {Priority}): a turn of {Conversation}",
            notice.Device, notice.ClaimedBy ?? "-", notice.Priority, speaker.ConversationKey);
        StartTurn(speaker);
        return new Done(true);
    }

    /// <summary>A device's conversation: no admin rights of its own, acting for (and messaging) the primary admin.</summary>
    private Speaker? MeshSpeaker(string device)
    {
        var primary = (_registry?.List(blocked: false).Users ?? []).FirstOrDefault(u => u.Primary && u.Role == UserInfo.AdminRole);
        return primary is null ? null
            : new Speaker(Speaker.Mesh, device, IsAdmin: false, primary.Number, $"device {device} (on the mesh)")
            {
                OnBehalfOf = $"{Speaker.WhatsApp}:{primary.Number}",
            };
    }

    private static bool IsMeshToken(string value) => value.Length is > 0 and <= 64 && value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-');
}
