namespace BoxBot.Mesh.Device;

/// <summary>
/// How many calls each caller may make per minute, and all callers together (token buckets, refilled continuously).
/// A caller is known by its reply subject's inbox (see <see cref="KeyOf"/>): the broker lets each boxbot-minted user read
/// only its own inbox, so a caller naming another's inbox would not get the answer.
/// </summary>
public sealed class CallerLimiter(int perCaller, int overall, TimeProvider time)
{
    private const int MaxCallers = 4096;
    private readonly Dictionary<string, Bucket> _callers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Bucket _all = new(overall, time.GetTimestamp(), 0);

    /// <summary>
    /// The inbox a reply subject belongs to: its first token (<c>_INBOX_lamp</c>), or for NATS's shared <c>_INBOX</c> its
    /// first two (one per connection of a reference client).
    /// </summary>
    public static string KeyOf(string? replyTo)
    {
        if (string.IsNullOrEmpty(replyTo))
        {
            return "(no reply)";
        }
        var first = replyTo.IndexOf('.');
        if (first < 0)
        {
            return replyTo;
        }
        if (!replyTo.AsSpan(0, first).SequenceEqual("_INBOX"))
        {
            return replyTo[..first];
        }
        var second = replyTo.IndexOf('.', first + 1);
        return second < 0 ? replyTo : replyTo[..second];
    }

    /// <summary>Takes a call for <paramref name="caller"/>; false when it or everyone together is over the limit.</summary>
    public bool TryTake(string caller) => Take(caller) == Admission.Admitted;

    /// <summary>
    /// Takes a call for <paramref name="caller"/>: <see cref="Admission.Admitted"/>; <see cref="Admission.Refused"/> when
    /// over the limit and the caller has not been told in the last second (tell it); else <see cref="Admission.Dropped"/>.
    /// </summary>
    public Admission Take(string caller)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_callers.TryGetValue(caller, out var bucket))
            {
                if (_callers.Count >= MaxCallers)
                {
                    // Forget the callers whose buckets are full again: they lose nothing by it.
                    foreach (var idle in _callers.Where(c => c.Value.Refill(perCaller, now, time).Tokens >= perCaller).Select(c => c.Key).ToList())
                    {
                        _callers.Remove(idle);
                    }
                }
                bucket = new Bucket(perCaller, now, 0);
            }
            bucket = bucket.Refill(perCaller, now, time);
            _all = _all.Refill(overall, now, time);
            if (bucket.Tokens < 1 || _all.Tokens < 1)
            {
                var tell = bucket.ToldAt == 0 || time.GetElapsedTime(bucket.ToldAt, now) >= TimeSpan.FromSeconds(1);
                _callers[caller] = tell ? bucket with { ToldAt = now } : bucket;
                return tell ? Admission.Refused : Admission.Dropped;
            }
            _callers[caller] = bucket with { Tokens = bucket.Tokens - 1 };
            _all = _all with { Tokens = _all.Tokens - 1 };
            return Admission.Admitted;
        }
    }

    private readonly record struct Bucket(double Tokens, long At, long ToldAt)
    {
        public Bucket Refill(int perMinute, long now, TimeProvider time) =>
            this with { Tokens = Math.Min(perMinute, Tokens + (time.GetElapsedTime(At, now).TotalMinutes * perMinute)), At = now };
    }
}

/// <summary>What <see cref="CallerLimiter.Take"/> decided.</summary>
public enum Admission
{
    Admitted,
    /// <summary>Over the limit; the caller is told (at most once a second).</summary>
    Refused,
    /// <summary>Over the limit and told recently: not answered (answering a flood would only feed it).</summary>
    Dropped,
}
