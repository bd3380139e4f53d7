namespace BoxBot.Webhook;

/// <summary>
/// Token buckets: one per sender and one for everyone, each holding a minute's allowance and refilling
/// continuously. A message is let through only when both its sender's bucket and the global one have a token.
/// Senders' buckets that are full again are forgotten, so memory stays bounded by recent senders.
/// </summary>
public sealed class RateLimiter
{
    // A flood from ever new numbers must not grow the table without bound: past this many, unknown senders share
    // the global bucket only until the sweep forgets full buckets.
    internal const int MaxTrackedSenders = 100_000;

    private readonly double _senderPerMinute;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Bucket> _senders = new(StringComparer.Ordinal);
    private readonly Bucket _global;
    private readonly Lock _lock = new();
    private long _lastSweep;

    public RateLimiter(int senderPerMinute, int globalPerMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(senderPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(globalPerMinute, 1);
        _senderPerMinute = senderPerMinute;
        _time = time;
        _lastSweep = time.GetTimestamp();
        _global = new Bucket(globalPerMinute, _lastSweep);
    }

    /// <summary>Takes a token for one message from <paramref name="sender"/>; false when either bucket is empty.</summary>
    public bool TryAcquire(string sender)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            Sweep(now);
            _global.Refill(now, _time);
            if (!_senders.TryGetValue(sender, out var bucket))
            {
                bucket = new Bucket(_senderPerMinute, now);
                if (_senders.Count < MaxTrackedSenders)
                {
                    _senders[sender] = bucket;
                }
            }
            bucket.Refill(now, _time);
            if (bucket.Tokens < 1 || _global.Tokens < 1)
            {
                return false;
            }
            bucket.Tokens--;
            _global.Tokens--;
            return true;
        }
    }

    internal int TrackedSenders
    {
        get
        {
            lock (_lock)
            {
                return _senders.Count;
            }
        }
    }

    private void Sweep(long now)
    {
        if (_time.GetElapsedTime(_lastSweep, now) < TimeSpan.FromMinutes(1))
        {
            return;
        }
        _lastSweep = now;
        foreach (var (sender, bucket) in _senders)
        {
            bucket.Refill(now, _time);
            if (bucket.Tokens >= bucket.Capacity)
            {
                _senders.Remove(sender);
            }
        }
    }

    private sealed class Bucket(double capacity, long now)
    {
        public double Capacity { get; } = capacity;
        public double Tokens { get; set; } = capacity;
        private long _at = now;

        public void Refill(long now, TimeProvider time)
        {
            var elapsed = time.GetElapsedTime(_at, now);
            _at = now;
            Tokens = Math.Min(Capacity, Tokens + (elapsed.TotalMinutes * Capacity));
        }
    }
}
