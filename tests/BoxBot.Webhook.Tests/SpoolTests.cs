using BoxBot.Contracts;
using BoxBot.Storage;

namespace BoxBot.Webhook.Tests;

public class SpoolTests
{
    private TempFolder _dir = null!;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    [SetUp]
    public void SetUp() => _dir = new TempFolder();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private static WhatsAppEvent Message(string id, string from = "4915112345678") =>
        new() { Key = id, Kind = WhatsAppEvent.MessageKind, Id = id, From = from, Type = "text", Text = "hi " + id, Timestamp = 1_700_000_000 };

    [Test]
    public async Task Stored_events_survive_a_reopen_in_order_and_with_every_field()
    {
        using (var spool = Spool.Open(_dir.Path, _clock))
        {
            Assert.That(await spool.StoreAsync([Message("a"), Message("b", "491")]), Is.EqualTo(new StoreResult(2, 0)));
            Assert.That(await spool.StoreAsync([Message("c")]), Is.EqualTo(new StoreResult(1, 0)));
        }

        using var again = Spool.Open(_dir.Path, _clock);
        Assert.That(again.Count, Is.EqualTo(3));
        Assert.That(again.Peek(10), Is.EqualTo(new[] { Message("a"), Message("b", "491"), Message("c") }));
        Assert.That(again.Peek(2).Select(e => e.Id), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public async Task A_key_seen_before_is_a_duplicate_even_after_delivery_and_a_restart()
    {
        using (var spool = Spool.Open(_dir.Path, _clock))
        {
            await spool.StoreAsync([Message("a")]);
            spool.Delete(["a"]);
            Assert.That(spool.Count, Is.Zero);
        }

        using var again = Spool.Open(_dir.Path, _clock);
        Assert.That(await again.StoreAsync([Message("a"), Message("b"), Message("b")]), Is.EqualTo(new StoreResult(1, 2)));
        Assert.That(again.Peek(10).Select(e => e.Id), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public async Task Concurrent_stores_are_each_counted_once_and_all_on_disk()
    {
        using var spool = Spool.Open(_dir.Path, _clock);

        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => spool.StoreAsync([Message("m" + (i % 200))]))));

        Assert.That(results.Sum(r => r.Stored), Is.EqualTo(200));
        Assert.That(results.Sum(r => r.Duplicates), Is.EqualTo(200));
        Assert.That(spool.Count, Is.EqualTo(200));
        Assert.That(spool.Peek(1000).Select(e => e.Id).ToList(), Is.Unique.And.Count.EqualTo(200));
    }

    [Test]
    public async Task Keys_are_forgotten_after_eight_days_but_never_while_their_event_waits()
    {
        using var spool = Spool.Open(_dir.Path, _clock);
        await spool.StoreAsync([Message("delivered"), Message("waiting")]);
        spool.Delete(["delivered"]);

        _clock.Advance(Spool.SeenFor - TimeSpan.FromMinutes(1));
        Assert.That(spool.ForgetOldKeys(), Is.Zero);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.That(spool.ForgetOldKeys(), Is.EqualTo(1));

        Assert.That(await spool.StoreAsync([Message("delivered"), Message("waiting")]), Is.EqualTo(new StoreResult(1, 1)));
    }

    [Test]
    public async Task Deleting_unknown_keys_changes_nothing()
    {
        using var spool = Spool.Open(_dir.Path, _clock);
        await spool.StoreAsync([Message("a")]);

        spool.Delete(["zz", "a' OR 1=1 --"]);

        Assert.That(spool.Count, Is.EqualTo(1));
    }

    [Test]
    public void The_spool_file_is_owner_only_and_a_readable_one_is_refused()
    {
        using (Spool.Open(_dir.Path, _clock))
        {
        }
        var path = Path.Combine(_dir.Path, Spool.FileName);
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var e = Assert.Throws<StorageException>(() => Spool.Open(_dir.Path, _clock))!;
        Assert.That(e.Message, Does.Contain("chmod 600 " + path));
    }

    [Test]
    public void A_spool_from_a_newer_release_is_refused_not_written()
    {
        using (var spool = Spool.Open(_dir.Path, _clock))
        {
        }
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection("Pooling=False;Data Source=" + Path.Combine(_dir.Path, Spool.FileName)))
        {
            c.Open();
            SqliteDatabase.Execute(c, "PRAGMA user_version = 99");
        }

        var e = Assert.Throws<StorageException>(() => Spool.Open(_dir.Path, _clock))!;
        Assert.That(e.Message, Does.Contain("schema version 99, newer than this boxbot knows (2)"));
    }

    [Test]
    public async Task Events_wait_for_a_signal_that_a_store_gives()
    {
        using var spool = Spool.Open(_dir.Path, _clock);
        var waiting = spool.WaitForEventsAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.That(waiting.IsCompleted, Is.False);

        await spool.StoreAsync([Message("a")]);

        Assert.That(await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(waiting));
    }

    [Test]
    public async Task One_table_holds_what_waits_and_what_was_seen_and_a_commit_writes_two_b_trees()
    {
        using (var spool = Spool.Open(_dir.Path, _clock))
        {
            await spool.StoreAsync([Message("a")]);
        }
        using var c = new Microsoft.Data.Sqlite.SqliteConnection("Pooling=False;Data Source=" + Path.Combine(_dir.Path, Spool.FileName));
        c.Open();
        using var schema = c.CreateCommand();
        // (sqlite_sequence stays from the first layout's AUTOINCREMENT; nothing writes it any more.)
        schema.CommandText = "SELECT type || ' ' || name FROM sqlite_schema WHERE name <> 'sqlite_sequence' ORDER BY name";
        using var reader = schema.ExecuteReader();
        var objects = new List<string>();
        while (reader.Read())
        {
            objects.Add(reader.GetString(0));
        }
        Assert.That(objects, Is.EqualTo(new[] { "table events", "index sqlite_autoindex_events_1" }));
    }

    [Test]
    public async Task A_spool_of_the_first_layout_keeps_its_waiting_events_in_order_and_its_seen_keys()
    {
        var path = Path.Combine(_dir.Path, Spool.FileName);
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection("Pooling=False;Data Source=" + path))
        {
            c.Open();
            SqliteDatabase.Execute(c, """
                CREATE TABLE spool(seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, sender TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL) STRICT;
                CREATE TABLE seen(key TEXT PRIMARY KEY, at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
                CREATE INDEX seen_by_time ON seen(at);
                PRAGMA user_version = 1;
                """);
            var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (key, waiting) in new[] { ("old", false), ("w2", true), ("w1", true) })
            {
                using var seen = c.CreateCommand();
                seen.CommandText = "INSERT INTO seen VALUES ($k, $at)";
                seen.Parameters.AddWithValue("$k", key);
                seen.Parameters.AddWithValue("$at", now);
                seen.ExecuteNonQuery();
                if (waiting)
                {
                    using var spooled = c.CreateCommand();
                    spooled.CommandText = "INSERT INTO spool(key, sender, event, received_at) VALUES ($k, '4915112345678', $e, $at)";
                    spooled.Parameters.AddWithValue("$k", key);
                    spooled.Parameters.AddWithValue("$e", System.Text.Json.JsonSerializer.Serialize(Message(key), WhatsAppJsonContext.Default.WhatsAppEvent));
                    spooled.Parameters.AddWithValue("$at", now);
                    spooled.ExecuteNonQuery();
                }
            }
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var spool = Spool.Open(_dir.Path, _clock);

        Assert.That(spool.Count, Is.EqualTo(2));
        Assert.That(spool.Peek(10).Select(e => e.Id), Is.EqualTo(new[] { "w2", "w1" }));
        Assert.That(await spool.StoreAsync([Message("old"), Message("w1"), Message("new")]), Is.EqualTo(new StoreResult(1, 2)));
    }

    [Test]
    public async Task Delivered_events_are_never_read_again_and_new_ones_come_after_them()
    {
        using var spool = Spool.Open(_dir.Path, _clock);
        await spool.StoreAsync([Message("a"), Message("b")]);
        spool.Delete(["a", "b"]);
        Assert.That(spool.Peek(10), Is.Empty);

        await spool.StoreAsync([Message("c")]);
        await spool.StoreAsync([Message("d")]);
        spool.Delete(["c"]);

        Assert.That(spool.Peek(10).Select(e => e.Id), Is.EqualTo(new[] { "d" }));
        Assert.That(spool.Count, Is.EqualTo(1));
    }
}
