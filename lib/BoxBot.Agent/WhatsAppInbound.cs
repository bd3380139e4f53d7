using BoxBot.Agent.Identity;
using BoxBot.Agent.Storage;
using BoxBot.Contracts;
using BoxBot.WhatsApp;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

/// <summary>
/// The agent's end of <c>inbound.whatsapp</c>: the webhook's batches of spooled events, recorded once each by key.
/// The events are untrusted data (they come from WhatsApp users through the network); this checks their shape,
/// never their content.
/// </summary>
/// <param name="delivered">Called with each new message from a registered user once it is recorded (the conversations pick it up).</param>
public sealed class WhatsAppInbound(WhatsAppLog whatsApp, UserRegistry registry, ILogger logger, Action<WhatsAppEvent>? delivered = null)
{
    /// <summary>Largest key or id accepted from the webhook (WhatsApp ids are about 60 characters).</summary>
    public const int MaxIdLength = 256;

    /// <summary>
    /// Records the batch in order and acknowledges each event it has recorded (or had already). A malformed event is
    /// logged and acknowledged too, so it cannot block those behind it; a storage failure ends the batch there, and the
    /// webhook sends the rest again.
    /// </summary>
    public WhatsAppInboundAck Receive(WhatsAppInboundBatch batch)
    {
        var acked = new List<string>(batch.Events.Count);
        foreach (var e in batch.Events)
        {
            if (e is null || string.IsNullOrEmpty(e.Key) || e.Key.Length > MaxIdLength)
            {
                logger.LogWarning("dropped an inbound WhatsApp event without a usable key");
                continue; // nothing the webhook could match an ack to
            }
            if (Malformed(e) is { } problem)
            {
                logger.LogWarning("dropped inbound WhatsApp event {Key}: {Problem}", e.Key, problem);
                acked.Add(e.Key);
                continue;
            }
            try
            {
                if (e.Kind == WhatsAppEvent.MessageKind && registry.Admit(e) is var admission && admission != Admission.Deliver)
                {
                    // Blocked, unregistered, a code (used or not): nothing of it reaches a conversation, and nobody is answered.
                    logger.LogDebug("WhatsApp message {Id} from {From}: {Admission}", e.Id, e.From, admission);
                    acked.Add(e.Key);
                    continue;
                }
                if (whatsApp.Record(e))
                {
                    if (e.Kind == WhatsAppEvent.MessageKind)
                    {
                        logger.LogInformation("WhatsApp {Type} message {Id} from {From}", e.Type, e.Id, e.From);
                        delivered?.Invoke(e);
                    }
                    else
                    {
                        logger.LogDebug("WhatsApp receipt: {Id} {Status}", e.Id, e.Status);
                    }
                }
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                logger.LogError("cannot record inbound WhatsApp event {Key} ({Reason}); the webhook keeps it and sends it again", e.Key, ex.Message);
                break;
            }
            acked.Add(e.Key);
        }
        return new WhatsAppInboundAck { Acked = acked };
    }

    private static string? Malformed(WhatsAppEvent e)
    {
        if (string.IsNullOrEmpty(e.Id) || e.Id.Length > MaxIdLength)
        {
            return "no usable id";
        }
        if (e.From is { } from && PhoneNumbers.Normalize(from) != from)
        {
            return "the phone number is not digits only";
        }
        return e.Kind switch
        {
            WhatsAppEvent.MessageKind when e.From is null => "a message without a sender",
            WhatsAppEvent.MessageKind when e.Key != e.Id => "a message whose key is not its id",
            WhatsAppEvent.MessageKind => null,
            WhatsAppEvent.StatusKind when e.Status is not ("sent" or "delivered" or "read" or "failed") => "a receipt with an unknown status",
            WhatsAppEvent.StatusKind when e.Key != $"status:{e.Id}:{e.Status}" => "a receipt whose key does not match it",
            WhatsAppEvent.StatusKind => null,
            _ => "an unknown kind",
        };
    }

}
