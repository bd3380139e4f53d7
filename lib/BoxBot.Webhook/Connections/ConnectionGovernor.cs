using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace BoxBot.Webhook.Connections;

/// <summary>
/// Spends the webhook's connection slots on real deliveries. A new connection holds no slot until its first request head
/// is complete (<see cref="RequestHeadGate"/>: silent and slowloris connections wait there, bounded, and go at the header
/// timeout). A connection starts <em>unverified</em> and becomes
/// <em>verified</em> once a request on it carries a valid signature (only the holder of the app secret, Meta, can do
/// that). The governor keeps <see cref="Reserve"/> of the <see cref="Capacity"/> slots for verified connections. When the
/// rest are taken, a new connection is not turned away: the oldest unverified connection that has had time to send a
/// request and is not sending one (<see cref="MinVictimAge"/>: idle between requests) is closed to make room; if
/// every unverified slot is busy with a request, the new connection waits its turn (first come, first served) for the
/// next slot, which a refused request frees at once, since refusals close their connection. An unverified connection
/// idle longer than the header timeout is closed in any case. A request that is on its way is never cut off, so a
/// fresh connection from Meta always gets in and gets its answer.
/// </summary>
/// <remarks>
/// Kestrel's own limit (MaxConcurrentConnections) refuses the newest connection when full, which is exactly the
/// connection a real delivery arrives on; this replaces it (Kestrel's limit is off). Refused requests also close their
/// connection (the endpoint answers them with <c>Connection: close</c>), so each forged request costs a flooder a new
/// connection, which is itself subject to all of the above.
/// </remarks>
internal sealed class ConnectionGovernor : IDisposable
{
    /// <summary>The key of a connection's <see cref="Slot"/> in its <see cref="IConnectionItemsFeature"/> items.</summary>
    public const string ItemKey = "boxbot.webhook.slot";

    // Looking further than this for a victim that is not mid-request costs more than it saves under a flood.
    private const int VictimScan = 64;

    /// <summary>
    /// A connection this young may still be sending its first request: it is never closed to make room. Whatever sends
    /// real deliveries here (Meta's servers, or the reverse proxy or tunnel on this box that holds their request already)
    /// sends the request head right after connecting; an attacker's connections become fair game this soon too, so
    /// reconnecting fast does not shelter a flood.
    /// </summary>
    public static readonly TimeSpan MinVictimAge = TimeSpan.FromMilliseconds(50);

    // Connections waiting for a slot, at most this many per slot; beyond that one is only a file descriptor held for nothing.
    private const int WaitingPerSlot = 16;

    private readonly Lock _lock = new();
    private readonly LinkedList<Slot> _unverified = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly RequestHeadGate _gate;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleUnverified;
    private readonly WebhookCounters _counters;
    private readonly ITimer _sweeper;
    private int _verified;

    /// <param name="capacity">Connections holding a slot at once (<c>[webhook] max_connections</c>).</param>
    /// <param name="idleUnverified">How long an unverified connection may hold a slot with no request in flight, and how long a new
    /// one may take to send its first request head (the header timeout).</param>
    /// <param name="maxHeadBytes">The largest request head Kestrel takes (a larger one is let through for Kestrel to refuse).</param>
    public ConnectionGovernor(int capacity, TimeSpan idleUnverified, int maxHeadBytes, WebhookCounters counters, TimeProvider time)
    {
        _gate = new RequestHeadGate(WaitingPerSlot * capacity, maxHeadBytes, idleUnverified, counters);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Reserve = capacity >= 10 ? capacity / 10 : 0;
        _idleUnverified = idleUnverified;
        _counters = counters;
        _time = time;
        // Often enough that a waiting connection is let in soon after a slot's holder may be closed.
        var period = MinVictimAge / 2;
        _sweeper = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    public int Capacity { get; }

    /// <summary>Slots only verified connections may use: unverified ones never hold more than Capacity − Reserve.</summary>
    public int Reserve { get; }

    public int Open
    {
        get
        {
            lock (_lock)
            {
                return _unverified.Count + _verified;
            }
        }
    }

    /// <summary>New connections still sending their first request head (they hold no slot).</summary>
    public int Reading => _gate.Reading;

    /// <summary>Connections waiting for a slot now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    public int Verified
    {
        get
        {
            lock (_lock)
            {
                return _verified;
            }
        }
    }

    /// <summary>Kestrel connection middleware: admits every connection it can (at once or in its turn), tracks it while it lasts.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (!await _gate.WaitForHeadAsync(connection))
        {
            connection.Abort(new ConnectionAbortedException("no whole request head within the header timeout"));
            return;
        }
        var slot = await AdmitAsync(connection);
        if (slot is null)
        {
            connection.Abort(new ConnectionAbortedException("no connection slot came free in time"));
            return;
        }
        connection.Items[ItemKey] = slot;
        try
        {
            await next(connection);
        }
        finally
        {
            Release(slot);
        }
    };

    /// <summary>The slot of the connection a request came on (null for a connection the governor does not track).</summary>
    public static Slot? Of(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var value) == true ? value as Slot : null;

    /// <summary>A request on <paramref name="slot"/> began: it is not a victim while it lasts.</summary>
    public void BeginRequest(Slot slot)
    {
        lock (_lock)
        {
            slot.InFlight++;
            slot.LastActivity = _time.GetTimestamp();
        }
    }

    public void EndRequest(Slot slot)
    {
        lock (_lock)
        {
            slot.InFlight--;
            slot.LastActivity = _time.GetTimestamp();
        }
    }

    /// <summary>A request on <paramref name="slot"/> carried a valid signature: the connection is Meta's (or the box's own simulate).</summary>
    public void MarkVerified(Slot slot)
    {
        lock (_lock)
        {
            if (slot.Node is { } node)
            {
                _unverified.Remove(node);
                slot.Node = null;
                slot.IsVerified = true;
                _verified++;
            }
        }
    }

    private async Task<Slot?> AdmitAsync(ConnectionContext connection)
    {
        Slot? victim = null;
        Waiter waiter;
        lock (_lock)
        {
            if (_waiting.Count == 0 && (HasRoom() || (victim = PickVictim()) is not null))
            {
                if (victim is not null)
                {
                    Drop(victim);
                }
                var slot = NewSlot(connection);
                Evict(victim);
                return slot;
            }
            if (_waiting.Count >= WaitingPerSlot * Capacity)
            {
                _counters.RefuseConnection();
                return null;
            }
            waiter = new Waiter(connection, _time.GetTimestamp());
            waiter.Node = _waiting.AddLast(waiter);
        }
        return await waiter.Admitted.Task.ConfigureAwait(false);
    }

    private bool HasRoom() => _unverified.Count + _verified < Capacity && _unverified.Count < Capacity - Reserve;

    /// <summary>A slot for <paramref name="connection"/>, the newest unverified one (under the lock).</summary>
    private Slot NewSlot(ConnectionContext connection)
    {
        var slot = new Slot(connection, _time.GetTimestamp());
        slot.Node = _unverified.AddLast(slot);
        return slot;
    }

    private void Evict(Slot? victim)
    {
        if (victim is not null)
        {
            _counters.EvictConnection();
            victim.Connection.Abort(new ConnectionAbortedException("closed to make room: an unverified connection, idle or still silent"));
        }
    }

    /// <summary>
    /// The oldest unverified connection (among the oldest few) that has had <see cref="MinVictimAge"/> to send a request and
    /// is not sending one; null when every unverified slot is busy or young.
    /// </summary>
    private Slot? PickVictim()
    {
        var now = _time.GetTimestamp();
        var node = _unverified.First;
        for (var i = 0; node is not null && i < VictimScan; i++, node = node.Next)
        {
            if (node.Value.InFlight == 0 && _time.GetElapsedTime(node.Value.LastActivity, now) >= MinVictimAge)
            {
                return node.Value;
            }
        }
        return null;
    }

    /// <summary>Admits waiting connections into free slots, or into slots made by closing connections that may go (under the lock).</summary>
    private List<Slot>? AdmitWaiting()
    {
        List<Slot>? victims = null;
        while (_waiting.First is { } first)
        {
            Slot? victim = null;
            if (!HasRoom() && (victim = PickVictim()) is null)
            {
                break;
            }
            if (victim is not null)
            {
                Drop(victim);
                (victims ??= []).Add(victim);
            }
            _waiting.RemoveFirst();
            first.Value.Node = null;
            first.Value.Admitted.TrySetResult(NewSlot(first.Value.Connection));
        }
        return victims;
    }

    /// <summary>Forgets <paramref name="slot"/> (under the lock); its connection is closed by the caller.</summary>
    private void Drop(Slot slot)
    {
        slot.Dropped = true;
        if (slot.Node is { } node)
        {
            _unverified.Remove(node);
            slot.Node = null;
        }
        else if (slot.IsVerified)
        {
            _verified--;
        }
    }

    private void Release(Slot slot)
    {
        List<Slot>? victims;
        lock (_lock)
        {
            if (!slot.Dropped)
            {
                Drop(slot);
            }
            victims = AdmitWaiting();
        }
        foreach (var v in victims ?? [])
        {
            Evict(v);
        }
    }

    /// <summary>
    /// Closes unverified connections that have held a slot with nothing in flight for longer than the header timeout,
    /// gives up on connections that waited that long for a slot, and admits waiting ones where connections may now go.
    /// </summary>
    internal void Sweep()
    {
        List<Slot>? idle = null;
        List<Slot>? victims;
        List<Waiter>? late = null;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            for (var node = _waiting.First; node is not null;)
            {
                var next = node.Next;
                if (_time.GetElapsedTime(node.Value.Since, now) > _idleUnverified)
                {
                    _waiting.Remove(node);
                    node.Value.Node = null;
                    (late ??= []).Add(node.Value);
                }
                node = next;
            }
            for (var node = _unverified.First; node is not null;)
            {
                var next = node.Next;
                var s = node.Value;
                if (s.InFlight == 0 && _time.GetElapsedTime(s.LastActivity, now) > _idleUnverified)
                {
                    Drop(s);
                    (idle ??= []).Add(s);
                }
                node = next;
            }
            victims = AdmitWaiting();
        }
        foreach (var w in late ?? [])
        {
            _counters.RefuseConnection();
            w.Admitted.TrySetResult(null);
        }
        foreach (var s in idle ?? [])
        {
            _counters.CloseIdleConnection();
            s.Connection.Abort(new ConnectionAbortedException("an unverified connection idle past the header timeout"));
        }
        foreach (var v in victims ?? [])
        {
            Evict(v);
        }
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        lock (_lock)
        {
            foreach (var w in _waiting)
            {
                w.Admitted.TrySetResult(null);
            }
            _waiting.Clear();
        }
    }

    /// <summary>A connection waiting for a slot, first come first served.</summary>
    private sealed class Waiter(ConnectionContext connection, long since)
    {
        public ConnectionContext Connection { get; } = connection;
        public long Since { get; } = since;
        public TaskCompletionSource<Slot?> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
    }

    /// <summary>One connection as the governor sees it. Fields are guarded by the governor's lock.</summary>
    internal sealed class Slot(ConnectionContext connection, long openedAt)
    {
        public ConnectionContext Connection { get; } = connection;
        public long LastActivity { get; set; } = openedAt;
        public int InFlight { get; set; }
        public bool IsVerified { get; set; }
        public bool Dropped { get; set; }
        public LinkedListNode<Slot>? Node { get; set; }
    }
}
