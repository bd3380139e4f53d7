using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.WhatsApp.Outbound;

namespace BoxBot.Agent;

/// <summary>
/// Outbound WhatsApp messages (<c>whatsapp.send</c>): admins send a text to a registered user; the send path itself asks
/// the user registry about every recipient, so no caller can reach an unregistered or blocked number. Without
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

    // The agent's database is opened by the inbound side (AgentService.Inbound.cs), which assigns this before
    // StartOutbound runs. Read at each send, so the order of the two does not matter. Null: parts are sent but not
    // recorded, and their delivery receipts match nothing.
    private WhatsAppLog? _whatsAppLog;

    private void StartOutbound(DaemonContext context)
    {
        var whatsApp = context.Config.WhatsApp;
        // A credential file others could read is refused here with the fix (fail closed), not skipped.
        var token = context.Credentials.TryGetSet(OutboundSender.AccessTokenCredential);
        UseOutbound(OutboundOptions.From(whatsApp, Path.Combine(context.StateDir, OutboxFileName)), token);
        MapOutbound(context.Server, context.Operators);
    }

    /// <summary>Builds the one sender. It sends only to registered users (<see cref="UseRegistry"/>); with no registry, to nobody.</summary>
    internal void UseOutbound(OutboundOptions options, string? accessToken, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _outbound?.Dispose();
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
            throw new RpcException(RpcErrorCodes.Refused, e.Message);
        }
        catch (GraphApiException e)
        {
            throw new RpcException(RpcErrorCodes.Upstream, e.Message);
        }
    }

    // The sender passes digits only, as the registry stores them; it asks before anything is sent or written to the outbox.
    private bool IsAllowedRecipient(string number) => _registry?.MaySendTo(number) == true;

    private void RecordOutbound(SentPart part) => _whatsAppLog?.RecordOutbound(part.Id, part.To, part.Text, part.Part);

    private ValueTask DisposeOutboundAsync()
    {
        _outbound?.Dispose();
        _outbound = null;
        return ValueTask.CompletedTask;
    }
}
