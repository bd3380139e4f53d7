using BoxBot.Config;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// How the agent sends WhatsApp messages. The access token is deliberately not here: a record prints every
/// property in <c>ToString()</c>, and options end up in logs and test output. It is passed to
/// <see cref="GraphClient"/> and <see cref="OutboundSender"/> on its own.
/// </summary>
public sealed record OutboundOptions
{
    /// <summary>The Cloud API's limit on a text message body, in characters (UTF-16 code units here, which is never more than WhatsApp counts).</summary>
    public const int PartLimit = 4096;

    /// <summary>Graph API base URL (<c>[whatsapp] graph_url</c>).</summary>
    public Uri GraphUrl { get; init; } = WhatsAppOptions.Default.GraphUrl;

    /// <summary>Graph API version in the path (<c>[whatsapp] api_version</c>).</summary>
    public string ApiVersion { get; init; } = WhatsAppOptions.Default.ApiVersion;

    /// <summary>The business phone number's id (<c>[whatsapp] phone_number_id</c>); <c>""</c> sends nothing: outbox only.</summary>
    public string PhoneNumberId { get; init; } = "";

    /// <summary>The development outbox: JSON lines, mode 0600, written instead of sending when there are no Graph credentials.</summary>
    public string OutboxPath { get; init; } = "whatsapp-outbox.jsonl";

    /// <summary>The most parts one text may be split into; longer texts are refused.</summary>
    public int MaxParts { get; init; } = 16;

    /// <summary>Limit on one HTTP request, connect to last byte of the answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tries per part, the first included, for answers worth retrying (429, 5xx, throughput limits, connect failures).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Wait before the first retry; doubled for each further one, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between tries. A <c>Retry-After</c> asking for more ends the send instead (a caller is waiting).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest text accepted: <see cref="MaxParts"/> × <see cref="PartLimit"/>.</summary>
    public int MaxTextChars => MaxParts * PartLimit;

    public static OutboundOptions Default { get; } = new();

    /// <summary>The <c>[whatsapp]</c> settings with the outbox at <paramref name="outboxPath"/>.</summary>
    public static OutboundOptions From(WhatsAppOptions whatsApp, string outboxPath)
    {
        ArgumentNullException.ThrowIfNull(whatsApp);
        ArgumentException.ThrowIfNullOrEmpty(outboxPath);
        return Default with
        {
            GraphUrl = whatsApp.GraphUrl,
            ApiVersion = whatsApp.ApiVersion,
            PhoneNumberId = whatsApp.PhoneNumberId,
            OutboxPath = outboxPath,
        };
    }

    /// <summary>Where messages are posted: <c>{graph_url}/{api_version}/{phone_number_id}/messages</c>.</summary>
    public Uri MessagesUri => new($"{GraphUrl.AbsoluteUri.TrimEnd('/')}/{ApiVersion}/{PhoneNumberId}/messages");
}
