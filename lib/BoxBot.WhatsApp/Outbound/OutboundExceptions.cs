namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// A message was not sent. The subclasses say whose fault it is, which decides what a caller answers:
/// <see cref="InvalidOutboundMessageException"/> (the request), <see cref="RecipientRefusedException"/> (the box's rules),
/// <see cref="GraphApiException"/> (the WhatsApp Graph API or the way to it). No message ever holds the access token.
/// </summary>
public abstract class OutboundException : Exception
{
    protected OutboundException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The recipient is not a phone number in international form, or the text is empty or too long.</summary>
public sealed class InvalidOutboundMessageException(string message) : OutboundException(message);

/// <summary>The recipient is a well-formed number the box may not send to; nothing left the box.</summary>
public sealed class RecipientRefusedException(string recipient)
    : OutboundException($"not a registered user: {recipient}; the box sends only to registered users")
{
    /// <summary>The refused number, digits only.</summary>
    public string Recipient { get; } = recipient;
}

/// <summary>
/// The Graph API refused or failed the message, or could not be reached or did not answer in time.
/// When a text was split, the parts before the failed one were sent: <see cref="SentIds"/>.
/// </summary>
public sealed class GraphApiException : OutboundException
{
    public GraphApiException(string message, int? httpStatus = null, int? graphCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        HttpStatus = httpStatus;
        GraphCode = graphCode;
    }

    /// <summary>The HTTP status of the last answer, or null when there was none (unreachable, timed out).</summary>
    public int? HttpStatus { get; }

    /// <summary>The Graph error code (<c>error.code</c>), when the answer carried one: 131047 is the 24-hour window.</summary>
    public int? GraphCode { get; }

    /// <summary>The ids of the parts sent before this failure, in order.</summary>
    public IReadOnlyList<string> SentIds { get; init; } = [];
}
