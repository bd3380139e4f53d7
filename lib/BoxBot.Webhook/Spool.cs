using System.Collections.Concurrent;
using System.Text.Json;
using BoxBot.Contracts;
using BoxBot.Storage;
using Microsoft.Data.Sqlite;

namespace BoxBot.Webhook;

/// <summary>
/// The inbound spool (<c>spool.db</c> in the webhook's state folder): every accepted event is committed here before
/// WhatsApp gets its 200, and stays until the agent acknowledges it. One table holds both what waits and what was
/// seen: an event's row keeps its key after delivery (its JSON dropped) for <see cref="SeenFor"/>, so a redelivery
/// is recognised as a duplicate by the same unique key that stores it. Writes from concurrent requests are committed
/// together (one fsync for all of them: group commit), by whichever request arrives first (no committer thread).
/// </summary>
public sealed class Spool : IDisposable
{
    public const string FileName = "spool.db";

    /// <summary>WhatsApp retries a delivery for up to seven days; a key is remembered a day longer.</summary>
    public static readonly TimeSpan SeenFor = TimeSpan.FromDays(8);

    // Most requests one commit takes; one commit round on the leader's own thread, the rest handed to the pool.
    private const int MaxBatch = 1024;

    private static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the first layout, two tables (the spool and the keys seen), each with an index of its own.
        """
        CREATE TABLE spool(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            sender TEXT NOT NULL,
            event TEXT NOT NULL,
            received_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE seen(key TEXT PRIMARY KEY, at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
        CREATE INDEX seen_by_time ON seen(at);
        """,
        // 2: one table. Rows in arrival order (the rowid: a commit's rows share the table's last page), and the key's
        // unique index, which is also the duplicate check: two B-trees written per commit instead of four. An event's
        // JSON is dropped when the agent has it; the row stays as the memory of its key.
        """
        CREATE TABLE events(
            seq INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            event TEXT,
            at INTEGER NOT NULL
        ) STRICT;
        INSERT INTO events(key, event, at) SELECT key, NULL, at FROM seen WHERE key NOT IN (SELECT key FROM spool) ORDER BY at;
        INSERT INTO events(key, event, at) SELECT key, event, received_at FROM spool ORDER BY seq;
        DROP TABLE spool;
        DROP TABLE seen;
        """,
    ];

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<PendingStore> _pending = new();
    private readonly SemaphoreSlim _available = new(0, 1);
    private SqliteCommand? _insert;
    private SqliteParameter? _insertKey;
    private SqliteParameter? _insertEvent;
    private SqliteParameter? _insertAt;
    private long _count;
    // The lowest seq that may still wait for the agent: Peek reads from here, so delivered rows are never scanned.
    private long _firstWaiting;
    private int _committing;
    private int _disposed;

    private Spool(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
        _count = SqliteDatabase.Scalar(connection, "SELECT count(*) FROM events WHERE event IS NOT NULL");
        _firstWaiting = _count == 0 ? long.MaxValue : SqliteDatabase.Scalar(connection, "SELECT min(seq) FROM events WHERE event IS NOT NULL");
    }

    /// <summary>Opens (creating, or migrating an older layout) the spool in <paramref name="stateDir"/>.</summary>
    /// <exception cref="StorageException">It cannot be opened safely.</exception>
    public static Spool Open(string stateDir, TimeProvider time)
    {
        // Only the webhook ever opens its spool: exclusive, so no transaction pays for file locks or a shared WAL index.
        var spool = new Spool(SqliteDatabase.Open(Path.Combine(stateDir, FileName), Migrations, exclusive: true), time);
        spool.ForgetOldKeys();
        return spool;
    }

    /// <summary>Events waiting for the agent.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>
    /// Commits the new events among <paramref name="events"/> (those whose key was not seen before) and returns how
    /// many were new and how many duplicates. Completes only after the commit is on disk.
    /// </summary>
    /// <remarks>
    /// Group commit without a committer thread: the request that finds no commit running commits everything queued,
    /// its own included, on its own thread, and goes on without a thread hop; requests that arrived meanwhile are
    /// completed by it (one hop back to the pool each). A leader does one round; what queues after that round is
    /// committed by a pool thread, so no request waits behind an endless stream of others.
    /// </remarks>
    public Task<StoreResult> StoreAsync(IReadOnlyList<WhatsAppEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingStore(events);
        _pending.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _committing, 1, 0) == 0)
        {
            CommitRound();
            HandOffIfQueued();
        }
        return pending.Done.Task;
    }

    /// <summary>Waits until something may have been stored since the last call (or <paramref name="timeout"/>).</summary>
    public async Task WaitForEventsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _available.WaitAsync(timeout, cancellationToken);

    /// <summary>The oldest <paramref name="max"/> events waiting for the agent, oldest first.</summary>
    public IReadOnlyList<WhatsAppEvent> Peek(int max)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT event FROM events WHERE seq >= $from AND event IS NOT NULL ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$from", _firstWaiting);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var events = new List<WhatsAppEvent>();
            while (reader.Read())
            {
                events.Add(JsonSerializer.Deserialize(reader.GetString(0), WhatsAppJsonContext.Default.WhatsAppEvent)!);
            }
            return events;
        }
    }

    /// <summary>The agent has these events: their JSON is dropped; their keys stay remembered as seen.</summary>
    public void Delete(IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "UPDATE events SET event = NULL WHERE key = $key AND event IS NOT NULL";
            var key = command.Parameters.Add("$key", SqliteType.Text);
            var delivered = 0;
            foreach (var k in keys)
            {
                key.Value = k;
                delivered += command.ExecuteNonQuery();
            }
            using var first = _connection.CreateCommand();
            first.Transaction = transaction;
            first.CommandText = "SELECT coalesce(min(seq), $from) FROM events WHERE seq >= $from AND event IS NOT NULL";
            first.Parameters.AddWithValue("$from", _firstWaiting);
            var firstWaiting = (long)first.ExecuteScalar()!;
            transaction.Commit();
            _firstWaiting = Interlocked.Add(ref _count, -delivered) == 0 ? long.MaxValue : firstWaiting;
        }
    }

    /// <summary>Forgets keys seen longer ago than <see cref="SeenFor"/> (never those whose event still waits).</summary>
    public int ForgetOldKeys()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM events WHERE event IS NULL AND at < $before";
            command.Parameters.AddWithValue("$before", (_time.GetUtcNow() - SeenFor).ToUnixTimeMilliseconds());
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// One commit of what is queued now (on the caller's thread); the leader role is given back before the waiting
    /// requests are completed, so the next commit can start while their answers are queued to the pool. (Running their
    /// continuations inline on this thread instead was measured slower: 65 µs a delivery against 54.)
    /// </summary>
    private void CommitRound()
    {
        var batch = new List<PendingStore>();
        while (batch.Count < MaxBatch && _pending.TryDequeue(out var p))
        {
            batch.Add(p);
        }
        StoreResult[]? results = null;
        Exception? failure = null;
        try
        {
            if (batch.Count > 0)
            {
                results = Commit(batch);
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or ObjectDisposedException)
        {
            failure = e;
        }
        finally
        {
            Volatile.Write(ref _committing, 0);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (failure is null)
            {
                batch[i].Done.TrySetResult(results![i]);
            }
            else
            {
                batch[i].Done.TrySetException(failure);
            }
        }
        if (results?.Any(r => r.Stored > 0) == true)
        {
            Signal();
        }
    }

    /// <summary>
    /// After a round: requests may have queued while it ran and found the leader role taken. If so, and nobody has taken
    /// the role since, a pool thread commits them (and anything behind them) so none is left waiting.
    /// </summary>
    private void HandOffIfQueued()
    {
        if (!_pending.IsEmpty && Interlocked.CompareExchange(ref _committing, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static spool =>
            {
                spool.CommitRound();
                spool.HandOffIfQueued();
            }, this, preferLocal: false);
        }
    }

    private StoreResult[] Commit(List<PendingStore> batch)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            using var transaction = _connection.BeginTransaction();
            var insert = Insert();
            insert.Transaction = transaction;
            _insertAt!.Value = now;
            var results = new StoreResult[batch.Count];
            var stored = 0;
            var firstSeq = 0L;
            for (var i = 0; i < batch.Count; i++)
            {
                var (n, duplicates) = (0, 0);
                foreach (var e in batch[i].Events)
                {
                    _insertKey!.Value = e.Key;
                    _insertEvent!.Value = JsonSerializer.Serialize(e, WhatsAppJsonContext.Default.WhatsAppEvent);
                    // The key's unique index decides: a key seen before (waiting or delivered) inserts nothing.
                    if (insert.ExecuteScalar() is long seq)
                    {
                        firstSeq = firstSeq == 0 ? seq : firstSeq;
                        n++;
                    }
                    else
                    {
                        duplicates++;
                    }
                }
                results[i] = new StoreResult(n, duplicates);
                stored += n;
            }
            transaction.Commit();
            if (stored > 0 && Interlocked.Add(ref _count, stored) == stored)
            {
                _firstWaiting = firstSeq;
            }
            return results;
        }
    }

    /// <summary>The prepared insert, made once and reused by every commit (under the lock).</summary>
    private SqliteCommand Insert()
    {
        if (_insert is null)
        {
            _insert = _connection.CreateCommand();
            _insert.CommandText = "INSERT INTO events(key, event, at) VALUES ($key, $event, $at) ON CONFLICT(key) DO NOTHING RETURNING seq";
            _insertKey = _insert.Parameters.Add("$key", SqliteType.Text);
            _insertEvent = _insert.Parameters.Add("$event", SqliteType.Text);
            _insertAt = _insert.Parameters.Add("$at", SqliteType.Integer);
        }
        return _insert;
    }

    private void Signal()
    {
        try
        {
            if (_available.CurrentCount == 0)
            {
                _available.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Someone else signalled first: the forwarder wakes either way.
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _insert?.Dispose();
                _connection.Dispose();
            }
        }
        // Whatever queued behind the last commit is failed, not left waiting: WhatsApp retries it (no 200 was sent).
        while (_pending.TryDequeue(out var p))
        {
            p.Done.TrySetException(new ObjectDisposedException(nameof(Spool)));
        }
        _available.Dispose();
    }

    private sealed class PendingStore(IReadOnlyList<WhatsAppEvent> events)
    {
        public IReadOnlyList<WhatsAppEvent> Events { get; } = events;
        public TaskCompletionSource<StoreResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Of the events handed to <see cref="Spool.StoreAsync"/>: how many were new (now on disk) and how many seen before.</summary>
public readonly record struct StoreResult(int Stored, int Duplicates);
