using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.WhatsApp.Outbound;

namespace BoxBot.Agent;

/// <summary>
/// Outbound WhatsApp messages (<c>whatsapp.send</c>): admins send a text to a recipient the box may send to. Without
/// Graph credentials (<c>whatsapp-access-token</c>, <c>[whatsapp] phone_number_id</c>) texts go to the development
/// outbox in the state folder instead, and nothing leaves the box.
/// </summary>
public sealed partial class AgentService
{
    /// <summary>File name of the development outbox in the agent's state folder.</summary>
    public const string OutboxFileName = "whatsapp-outbox.jsonl";

    // Up to 16 parts, each with a few tries and waits between them; normally a send takes well under a second.
    internal static readonly TimeSpan SendCallTimeout = TimeSpan.FromMinutes(5);

    private OutboundSender? _outbound;
    private string _adminNumber = "";

    // The agent's database is opened by the inbound side (AgentService.Inbound.cs), which assigns this before
    // StartOutbound runs. Read at each send, so the order of the two does not matter. Null: parts are sent but not
    // recorded, and their delivery receipts match nothing.
    private WhatsAppLog? _whatsAppLog;

    private void StartOutbound(DaemonContext context)
    {
        var whatsApp = context.Config.WhatsApp;
        // A credential file others could read is refused here with the fix (fail closed), not skipped.
        var token = context.Credentials.TryGet(OutboundSender.AccessTokenCredential);
        UseOutbound(OutboundOptions.From(whatsApp, Path.Combine(context.StateDir, OutboxFileName)), token, whatsApp.AdminNumber);
        MapOutbound(context.Server, context.Operators);
    }

    /// <summary>Builds the one sender. Until the user registry exists, the only recipient allowed is <paramref name="adminNumber"/>.</summary>
    internal void UseOutbound(OutboundOptions options, string? accessToken, string adminNumber, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _outbound?.Dispose();
        _adminNumber = adminNumber;
        _outbound = new OutboundSender(options, accessToken, IsAllowedRecipient, _log, RecordOutbound, delay);
    }

    /// <summary>Where accepted parts are recorded (the inbound side may assign <c>_whatsAppLog</c> directly instead).</summary>
    internal void UseWhatsAppLog(WhatsAppLog? log) => _whatsAppLog = log;

    internal void MapOutbound(JsonRpcServer server, CallerPolicy callers) =>
        server.Map(WhatsAppMethods.Send, callers, WhatsAppJsonContext.Default.WhatsAppSendRequest, WhatsAppJsonContext.Default.WhatsAppSendResult,
            SendAsync, SendCallTimeout);

    /// <summary>For <c>AddStatus</c>: how messages leave the box ("graph", or "outbox (...)" saying what is missing).</summary>
    internal void AddOutboundStatus(IDictionary<string, string> details)
    {
        ArgumentNullException.ThrowIfNull(details);
        if (_outbound is not null)
        {
            details["whatsapp_outbound"] = _outbound.Mode;
        }
    }

    private async ValueTask<WhatsAppSendResult> SendAsync(WhatsAppSendRequest request, RpcContext rpc, CancellationToken cancellationToken)
    {
        var sender = _outbound ?? throw new RpcException(RpcErrorCodes.Unavailable, "outbound WhatsApp is not started");
        try
        {
            return await sender.SendTextAsync(request.To ?? "", request.Text ?? "", Caller(rpc), cancellationToken);
        }
        catch (InvalidOutboundMessageException e)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, e.Message);
        }
        catch (RecipientRefusedException e)
        {
            var hint = _adminNumber.Length == 0
                ? " (for now that is [whatsapp] admin_number, which is empty in the config)"
                : " (for now that is [whatsapp] admin_number)";
            throw new RpcException(RpcErrorCodes.Refused, e.Message + hint);
        }
        catch (GraphApiException e)
        {
            throw new RpcException(RpcErrorCodes.Upstream, e.Message);
        }
    }

    // Numbers are compared normalized: the sender passes digits only, and the config allows nothing else.
    private bool IsAllowedRecipient(string number) => _adminNumber.Length > 0 && number == _adminNumber;

    private void RecordOutbound(SentPart part) => _whatsAppLog?.RecordOutbound(part.Id, part.To, part.Text, part.Part);

    private ValueTask DisposeOutboundAsync()
    {
        _outbound?.Dispose();
        _outbound = null;
        return ValueTask.CompletedTask;
    }
}
