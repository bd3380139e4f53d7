using System.Text.Json;
using System.Threading.Channels;
using BoxBot.Contracts;
using BoxBot.Storage;
using Microsoft.Data.Sqlite;

namespace BoxBot.Webhook;

/// <summary>
/// The inbound spool (<c>spool.db</c> in the webhook's state folder): every accepted event is committed here before
/// WhatsApp gets its 200, and stays until the agent acknowledges it. Keys seen in the last
/// <see cref="SeenFor"/> are remembered after delivery too, so a redelivery is recognised as a duplicate.
/// Writes from concurrent requests are committed together (one fsync for all of them: group commit).
/// </summary>
public sealed class Spool : IDisposable
{
    public const string FileName = "spool.db";

    /// <summary>WhatsApp retries a delivery for up to seven days; a key is remembered a day longer.</summary>
    public static readonly TimeSpan SeenFor = TimeSpan.FromDays(8);

    private static readonly IReadOnlyList<string> Migrations =
    [
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
    ];

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Channel<PendingStore> _pending = Channel.CreateUnbounded<PendingStore>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _available = new(0, 1);
    private readonly Task _committer;
    private long _count;
    private int _disposed;

    private Spool(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
        _count = SqliteDatabase.Scalar(connection, "SELECT count(*) FROM spool");
        _committer = Task.Run(CommitLoopAsync);
    }

    /// <summary>Opens (creating) the spool in <paramref name="stateDir"/>.</summary>
    /// <exception cref="StorageException">It cannot be opened safely.</exception>
    public static Spool Open(string stateDir, TimeProvider time)
    {
        var spool = new Spool(SqliteDatabase.Open(Path.Combine(stateDir, FileName), Migrations), time);
        spool.ForgetOldKeys();
        return spool;
    }

    /// <summary>Events waiting for the agent.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>
    /// Commits the new events among <paramref name="events"/> (those whose key was not seen before) and returns how
    /// many were new and how many duplicates. Completes only after the commit is on disk.
    /// </summary>
    public Task<StoreResult> StoreAsync(IReadOnlyList<WhatsAppEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var pending = new PendingStore(events);
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(Spool));
        }
        return pending.Done.Task;
    }

    /// <summary>Waits until something may have been stored since the last call (or <paramref name="timeout"/>).</summary>
    public async Task WaitForEventsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _available.WaitAsync(timeout, cancellationToken);

    /// <summary>The oldest <paramref name="max"/> events, oldest first.</summary>
    public IReadOnlyList<WhatsAppEvent> Peek(int max)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT event FROM spool ORDER BY seq LIMIT $max";
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

    /// <summary>Deletes the events the agent acknowledged; their keys stay remembered as seen.</summary>
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
            command.CommandText = "DELETE FROM spool WHERE key = $key";
            var key = command.Parameters.Add("$key", SqliteType.Text);
            var deleted = 0;
            foreach (var k in keys)
            {
                key.Value = k;
                deleted += command.ExecuteNonQuery();
            }
            transaction.Commit();
            Interlocked.Add(ref _count, -deleted);
        }
    }

    /// <summary>Forgets keys seen longer ago than <see cref="SeenFor"/> (never those still waiting in the spool).</summary>
    public int ForgetOldKeys()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM seen WHERE at < $before AND key NOT IN (SELECT key FROM spool)";
            command.Parameters.AddWithValue("$before", (_time.GetUtcNow() - SeenFor).ToUnixTimeMilliseconds());
            return command.ExecuteNonQuery();
        }
    }

    private async Task CommitLoopAsync()
    {
        var reader = _pending.Reader;
        var batch = new List<PendingStore>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 1024 && reader.TryRead(out var p))
            {
                batch.Add(p);
            }
            try
            {
                var results = Commit(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
                if (results.Any(r => r.Stored > 0))
                {
                    Signal();
                }
            }
            catch (Exception e) when (e is SqliteException or IOException or ObjectDisposedException)
            {
                foreach (var p in batch)
                {
                    p.Done.TrySetException(e);
                }
            }
        }
    }

    private StoreResult[] Commit(List<PendingStore> batch)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            using var transaction = _connection.BeginTransaction();
            using var seen = _connection.CreateCommand();
            seen.Transaction = transaction;
            seen.CommandText = "INSERT OR IGNORE INTO seen(key, at) VALUES ($key, $at)";
            var seenKey = seen.Parameters.Add("$key", SqliteType.Text);
            seen.Parameters.AddWithValue("$at", now);
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO spool(key, sender, event, received_at) VALUES ($key, $sender, $event, $at)";
            var key = insert.Parameters.Add("$key", SqliteType.Text);
            var sender = insert.Parameters.Add("$sender", SqliteType.Text);
            var json = insert.Parameters.Add("$event", SqliteType.Text);
            insert.Parameters.AddWithValue("$at", now);

            var results = new StoreResult[batch.Count];
            var stored = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                var (n, duplicates) = (0, 0);
                foreach (var e in batch[i].Events)
                {
                    seenKey.Value = e.Key;
                    if (seen.ExecuteNonQuery() == 0)
                    {
                        duplicates++;
                        continue;
                    }
                    key.Value = e.Key;
                    sender.Value = e.From ?? "";
                    json.Value = JsonSerializer.Serialize(e, WhatsAppJsonContext.Default.WhatsAppEvent);
                    insert.ExecuteNonQuery();
                    n++;
                }
                results[i] = new StoreResult(n, duplicates);
                stored += n;
            }
            transaction.Commit();
            Interlocked.Add(ref _count, stored);
            return results;
        }
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
        _pending.Writer.TryComplete();
        try
        {
            _committer.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _connection.Dispose();
            }
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
