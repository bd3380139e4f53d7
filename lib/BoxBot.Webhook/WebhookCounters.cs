using System.Globalization;

namespace BoxBot.Webhook;

/// <summary>What the webhook has done since it started, for <c>system.status</c> (and <c>boxbot status</c>).</summary>
public sealed class WebhookCounters
{
    private long _accepted;
    private long _duplicate;
    private long _skipped;
    private long _rejectedSignature;
    private long _rejectedSize;
    private long _rejectedJson;
    private long _rejectedSlow;
    private long _rejectedHandshake;
    private long _rateLimited;
    private long _forwarded;

    /// <summary>New events (messages and receipts) written to the spool.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Events whose key was seen before (WhatsApp redelivers until it gets a 200).</summary>
    public long Duplicate => Interlocked.Read(ref _duplicate);

    /// <summary>Malformed elements of signed deliveries, skipped and logged.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public long RejectedSignature => Interlocked.Read(ref _rejectedSignature);
    public long RejectedSize => Interlocked.Read(ref _rejectedSize);
    public long RejectedJson => Interlocked.Read(ref _rejectedJson);
    public long RejectedSlow => Interlocked.Read(ref _rejectedSlow);
    public long RejectedHandshake => Interlocked.Read(ref _rejectedHandshake);
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>Events the agent acknowledged (and the spool then deleted).</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    internal void AddAccepted(long n) => Interlocked.Add(ref _accepted, n);
    internal void AddDuplicate(long n) => Interlocked.Add(ref _duplicate, n);
    internal void AddSkipped(long n) => Interlocked.Add(ref _skipped, n);
    internal void AddRateLimited(long n) => Interlocked.Add(ref _rateLimited, n);
    internal void AddForwarded(long n) => Interlocked.Add(ref _forwarded, n);
    internal void RejectSignature() => Interlocked.Increment(ref _rejectedSignature);
    internal void RejectSize() => Interlocked.Increment(ref _rejectedSize);
    internal void RejectJson() => Interlocked.Increment(ref _rejectedJson);
    internal void RejectSlow() => Interlocked.Increment(ref _rejectedSlow);
    internal void RejectHandshake() => Interlocked.Increment(ref _rejectedHandshake);

    /// <summary>Adds the counters to status details; <paramref name="spooled"/> is what waits for the agent now.</summary>
    public void AddTo(IDictionary<string, string> details, long spooled)
    {
        ArgumentNullException.ThrowIfNull(details);
        static string S(long v) => v.ToString(CultureInfo.InvariantCulture);
        details["accepted"] = S(Accepted);
        details["duplicate"] = S(Duplicate);
        details["skipped"] = S(Skipped);
        details["rejected_signature"] = S(RejectedSignature);
        details["rejected_size"] = S(RejectedSize);
        details["rejected_json"] = S(RejectedJson);
        details["rejected_slow"] = S(RejectedSlow);
        details["rejected_handshake"] = S(RejectedHandshake);
        details["rate_limited"] = S(RateLimited);
        details["spooled"] = S(spooled);
        details["forwarded"] = S(Forwarded);
    }
}
