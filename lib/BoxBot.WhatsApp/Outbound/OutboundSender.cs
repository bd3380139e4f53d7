using BoxBot.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>A message part the Graph API accepted: what the agent records so receipts can be matched to it.</summary>
/// <param name="Id">The WhatsApp message id (<c>wamid...</c>).</param>
/// <param name="To">The recipient, digits only.</param>
/// <param name="Text">This part's text.</param>
/// <param name="Part">1 for the first part.</param>
/// <param name="Parts">How many parts the text was split into.</param>
public sealed record SentPart(string Id, string To, string Text, int Part, int Parts);

/// <summary>
/// The one way the box sends a WhatsApp message. In order: the recipient must be a well-formed number the box may send
/// to (<c>isAllowedRecipient</c>, asked before anything leaves the box); the text is split at 4096 characters; then each
/// part goes to the Graph API in order, or, with no Graph credentials, the whole text goes to the development outbox
/// and nothing is sent. Each accepted part is reported to <c>onAccepted</c>.
/// </summary>
public sealed class OutboundSender : IDisposable
{
    /// <summary>The credential holding the Cloud API access token.</summary>
    public const string AccessTokenCredential = "whatsapp-access-token";

    private readonly OutboundOptions _options;
    private readonly Func<string, bool> _isAllowedRecipient;
    private readonly Action<SentPart>? _onAccepted;
    private readonly ILogger _log;
    private readonly GraphClient? _graph;
    private readonly Outbox _outbox;
    private readonly string _outboxReason = "";

    /// <param name="options">Graph endpoint, outbox path and limits.</param>
    /// <param name="accessToken">The Cloud API token, or null/empty for none: then messages go to the outbox.</param>
    /// <param name="isAllowedRecipient">Whether the box may send to a number (digits only). Today: the configured admin number;
    /// later: the user registry.</param>
    /// <param name="logger">One line per send (recipient, parts, ids or the outbox; never the text), and retries.</param>
    /// <param name="onAccepted">Called for each part the Graph API accepted, in order; its failures are logged, never thrown
    /// (the message is out by then).</param>
    /// <param name="delay">Waits between tries (tests); default <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</param>
    /// <param name="time">Timestamps in the outbox.</param>
    public OutboundSender(OutboundOptions options, string? accessToken, Func<string, bool> isAllowedRecipient, ILogger? logger = null,
        Action<SentPart>? onAccepted = null, Func<TimeSpan, CancellationToken, Task>? delay = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(isAllowedRecipient);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxParts, 1, nameof(options.MaxParts));
        _options = options;
        _isAllowedRecipient = isAllowedRecipient;
        _onAccepted = onAccepted;
        _log = logger ?? NullLogger.Instance;
        _outbox = new Outbox(options.OutboxPath, time ?? TimeProvider.System);
        if (string.IsNullOrEmpty(accessToken))
        {
            Mode = "outbox (no access token)";
            _outboxReason = $"no access token: the credential {AccessTokenCredential} is missing";
        }
        else if (options.PhoneNumberId.Length == 0)
        {
            Mode = "outbox (no phone_number_id)";
            _outboxReason = "[whatsapp] phone_number_id is empty in the config";
        }
        else
        {
            Mode = "graph";
            _graph = new GraphClient(options, accessToken, _log, delay);
        }
    }

    /// <summary>"graph", "outbox (no access token)" or "outbox (no phone_number_id)": for status.</summary>
    public string Mode { get; }

    /// <summary>True when messages really go to WhatsApp.</summary>
    public bool SendsToGraph => _graph is not null;

    /// <summary>The development outbox file (written only when <see cref="SendsToGraph"/> is false).</summary>
    public string OutboxPath => _outbox.Path;

    /// <summary>Sends <paramref name="text"/> to <paramref name="to"/>, or writes it to the outbox.</summary>
    /// <param name="caller">Who asks, for the log (for example "uid 1000").</param>
    /// <returns>Outcome "sent" with every part's id in order, or "outbox" with the outbox file.</returns>
    /// <exception cref="InvalidOutboundMessageException">The number is malformed, or the text is empty or longer than <see cref="OutboundOptions.MaxTextChars"/>.</exception>
    /// <exception cref="RecipientRefusedException">The box may not send to this number; nothing was sent.</exception>
    /// <exception cref="GraphApiException">The Graph API refused or failed a part; <see cref="GraphApiException.SentIds"/> lists the parts before it.</exception>
    /// <exception cref="IOException">The outbox cannot be written.</exception>
    public async Task<WhatsAppSendResult> SendTextAsync(string to, string text, string caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(caller);
        var recipient = Recipient.Normalize(to);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOutboundMessageException("text is empty; there is nothing to send");
        }
        if (text.Length > _options.MaxTextChars)
        {
            throw new InvalidOutboundMessageException($"text is {text.Length} characters; at most {_options.MaxTextChars} are sent " +
                $"({_options.MaxParts} messages of {OutboundOptions.PartLimit})");
        }
        if (!_isAllowedRecipient(recipient))
        {
            OutboundLog.Refused(_log, recipient, caller);
            throw new RecipientRefusedException(recipient);
        }
        var parts = TextSplitter.Split(text);
        if (_graph is null)
        {
            _outbox.Append(recipient, text, parts.Count, _outboxReason);
            OutboundLog.NotSent(_log, recipient, caller, parts.Count, _outbox.Path, _outboxReason);
            return new WhatsAppSendResult { Outcome = "outbox", Parts = parts.Count, Outbox = _outbox.Path };
        }

        var ids = new List<string>(parts.Count);
        for (var i = 0; i < parts.Count; i++)
        {
            string id;
            try
            {
                id = await _graph.SendTextAsync(recipient, parts[i], cancellationToken);
            }
            catch (GraphApiException e)
            {
                // Nothing sent: the Graph API's answer is the whole story. Otherwise say which parts went out.
                var failure = ids.Count == 0 ? e : new GraphApiException(
                    $"part {i + 1} of {parts.Count} not sent: {e.Message}; {(ids.Count == 1 ? "part 1 was" : $"parts 1 to {ids.Count} were")} sent ({string.Join(", ", ids)})",
                    e.HttpStatus, e.GraphCode, e)
                { SentIds = [.. ids] };
                OutboundLog.Failed(_log, recipient, caller, failure.Message);
                throw failure;
            }
            ids.Add(id);
            Record(new SentPart(id, recipient, parts[i], i + 1, parts.Count));
        }
        OutboundLog.Sent(_log, recipient, caller, parts.Count, string.Join(", ", ids));
        return new WhatsAppSendResult { Outcome = "sent", MessageIds = ids, Parts = parts.Count };
    }

    public void Dispose() => _graph?.Dispose();

    private void Record(SentPart part)
    {
        try
        {
            _onAccepted?.Invoke(part);
        }
        catch (Exception e)
        {
            OutboundLog.RecordFailed(_log, e, part.Id, part.To);
        }
    }
}
