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
    private long _connectionsEvicted;
    private long _connectionsRefused;
    private long _connectionsIdle;

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

    /// <summary>Connections closed to make room for a new one: the one reading its first request head longest, or an idle unverified one (see ConnectionGovernor).</summary>
    public long ConnectionsEvicted => Interlocked.Read(ref _connectionsEvicted);

    /// <summary>New connections turned away: 16 already waiting for each slot, or none came free within the header timeout.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _connectionsRefused);

    /// <summary>Connections closed for taking longer than the header timeout over their first request head, or holding a slot idle that long unverified.</summary>
    public long ConnectionsIdleClosed => Interlocked.Read(ref _connectionsIdle);

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
    internal void EvictConnection() => Interlocked.Increment(ref _connectionsEvicted);
    internal void RefuseConnection() => Interlocked.Increment(ref _connectionsRefused);
    internal void CloseIdleConnection() => Interlocked.Increment(ref _connectionsIdle);

    /// <summary>
    /// Adds the counters to status details; <paramref name="spooled"/> is what waits for the agent now,
    /// <paramref name="open"/> and <paramref name="verified"/> the connections open now and how many of them verified.
    /// </summary>
    public void AddTo(IDictionary<string, string> details, long spooled, int open = 0, int verified = 0, int waiting = 0, int reading = 0)
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
        details["http_connections"] = S(open);
        details["http_connections_verified"] = S(verified);
        details["http_connections_waiting"] = S(waiting);
        details["http_connections_reading"] = S(reading);
        details["http_connections_evicted"] = S(ConnectionsEvicted);
        details["http_connections_refused"] = S(ConnectionsRefused);
        details["http_connections_idle_closed"] = S(ConnectionsIdleClosed);
    }
}
