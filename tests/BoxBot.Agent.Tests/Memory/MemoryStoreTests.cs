using BoxBot.Agent.Memory;
using BoxBot.Agent.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests.Memory;

/// <summary>The memory's rules, each tried against the way around it: real SQLite and FTS5, a clock the test moves.</summary>
public class MemoryStoreTests
{
    private static readonly BoxBot.Agent.Tools.Speaker Alice = Speakers.Person("4915100000001");
    private static readonly BoxBot.Agent.Tools.Speaker Bob = Speakers.Person("4915100000002");
    private static readonly BoxBot.Agent.Tools.Speaker Admin = Speakers.Person("4915100000009", admin: true);

    private MemoryFolder _dir = null!;
    private AgentDatabase _db = null!;
    private ManualClock _clock = null!;
    private MemoryStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new MemoryFolder();
        _db = AgentDatabase.Open(_dir.Path);
        _clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        _store = new MemoryStore(_db, _clock, NullLogger.Instance);
    }

    [TearDown]
    public void TearDown()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private MemoryStore Store(int maxFacts, long maxTotalText) => new(_db, _clock, NullLogger.Instance, maxFacts, maxTotalText);

    private long Now => _clock.Now.ToUnixTimeSeconds();

    // --- FTS5 ---

    [Test]
    public void FTS5_with_bm25_is_in_the_bundled_SQLite()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'porter unicode61 remove_diacritics 2');
            INSERT INTO t(x) VALUES ('the kettle is broken'), ('buy a new kettle for the kitchen kettle corner');
            SELECT sqlite_compileoption_used('ENABLE_FTS5'), (SELECT count(*) FROM t WHERE t MATCH '"kettles"'),
                   (SELECT rowid FROM t WHERE t MATCH '"kettle"' ORDER BY bm25(t) LIMIT 1);
            """;
        using var reader = command.ExecuteReader();
        Assert.That(reader.Read(), Is.True);
        Assert.That((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)), Is.EqualTo((1L, 2L, 2L)), "compiled in, stemming, bm25");
    }

    [Test]
    public void The_index_stays_in_step_with_the_facts_through_every_change()
    {
        var ids = Enumerable.Range(0, 20).Select(i => _store.Remember(Alice, MemoryScope.Household, $"fact number {i} about the garden shed", "garden")).ToList();
        _store.Update(Alice, ids[3], "the shed key hangs by the door");
        _store.Forget(Alice, ids[4]);
        _store.Search(Alice, "shed", limit: 20);

        _db.Use(c =>
        {
            BoxBot.Storage.SqliteDatabase.Execute(c, "INSERT INTO memory_fts(memory_fts, rank) VALUES ('integrity-check', 1)");
            return 0;
        });
        Assert.That(_store.Search(Alice, "key").Select(f => f.Id), Is.EqualTo(new[] { ids[3] }));
        Assert.That(_store.Search(Alice, "number 4", limit: 20).Select(f => f.Id), Does.Not.Contain(ids[4]));
    }

    // --- remember and search ---

    [Test]
    public void A_fact_is_found_by_any_of_its_words_best_match_first_and_stemmed()
    {
        var tea = _store.Remember(Alice, MemoryScope.Person, "Alice drinks green tea without sugar");
        var coffee = _store.Remember(Alice, MemoryScope.Person, "Alice dislikes coffee");
        var teapot = _store.Remember(Alice, MemoryScope.Household, "The teapot is in the top cupboard; green tea is beside it", "kitchen");

        var found = _store.Search(Alice, "which green teas?");

        Assert.That(found.Select(f => f.Id), Is.EquivalentTo(new[] { tea, teapot }));
        Assert.That(_store.Search(Alice, "coffee").Single().Id, Is.EqualTo(coffee));
        var fact = _store.Search(Alice, "kitchen").Single();
        Assert.That((fact.Id, fact.Scope, fact.Subject, fact.CreatedBy), Is.EqualTo((teapot, "household", "kitchen", "whatsapp:4915100000001")),
            "the topic is searchable");
        Assert.That(_store.Search(Alice, "sugar").Single().Subject, Is.EqualTo("whatsapp:4915100000001"));
    }

    [Test]
    public void A_persons_conversation_key_is_not_searchable_text()
    {
        _store.Remember(Alice, MemoryScope.Person, "likes jazz");

        Assert.That(_store.Search(Alice, "whatsapp"), Is.Empty);
        Assert.That(_store.Search(Alice, "4915100000001"), Is.Empty);
    }

    [Test]
    public void Scope_and_subject_narrow_a_search()
    {
        var person = _store.Remember(Admin, MemoryScope.Person, "plays the piano on Sundays", "4915100000002");
        var household = _store.Remember(Alice, MemoryScope.Household, "the piano tuner comes in March", "piano");
        var method = _store.Remember(Alice, MemoryScope.Method, "the piano app needs the tablet's bluetooth on");

        Assert.That(_store.Search(Admin, "piano", MemoryScope.Person).Select(f => f.Id), Is.EqualTo(new[] { person }));
        Assert.That(_store.Search(Admin, "piano", MemoryScope.Method).Select(f => f.Id), Is.EqualTo(new[] { method }));
        Assert.That(_store.Search(Admin, "piano", subject: "piano").Select(f => f.Id), Is.EqualTo(new[] { household }));
        Assert.That(_store.Search(Admin, "piano", subject: "+4915100000002").Select(f => f.Id), Is.EqualTo(new[] { person }));
        Assert.That(() => _store.Search(Admin, "piano", "secret"), Throws.TypeOf<MemoryException>());
    }

    [Test]
    public void The_same_fact_again_is_the_fact_already_there()
    {
        var first = _store.Remember(Alice, MemoryScope.Person, "allergic to peanuts");
        _clock.Advance(TimeSpan.FromDays(1));

        Assert.That(_store.Remember(Alice, MemoryScope.Person, "  allergic to peanuts\r\n"), Is.EqualTo(first));
        Assert.That(_store.Usage().Facts, Is.EqualTo(1));
        Assert.That(_store.Get(first)!.UpdatedAt, Is.EqualTo(Now));
        Assert.That(_store.Remember(Alice, MemoryScope.Household, "allergic to peanuts"), Is.Not.EqualTo(first), "another scope is another fact");
    }

    [Test]
    public void Searching_counts_as_using_what_was_found()
    {
        var id = _store.Remember(Alice, MemoryScope.Household, "the bins go out on Tuesday");
        var other = _store.Remember(Alice, MemoryScope.Household, "the recycling goes out on Friday");
        _clock.Advance(TimeSpan.FromHours(2));

        var found = _store.Search(Alice, "bins").Single();
        _store.Search(Alice, "bins");

        Assert.That((found.UseCount, found.LastUsedAt), Is.EqualTo((1L, Now)));
        Assert.That((_store.Get(id)!.UseCount, _store.Get(id)!.LastUsedAt), Is.EqualTo((2L, Now)));
        Assert.That((_store.Get(other)!.UseCount, _store.Get(other)!.LastUsedAt), Is.EqualTo((0L, Now - 7200)));
    }

    [Test]
    public void Update_replaces_the_text_and_what_it_is_found_by()
    {
        var id = _store.Remember(Alice, MemoryScope.Household, "the spare key is under the mat");
        _clock.Advance(TimeSpan.FromMinutes(1));

        _store.Update(Alice, id, "the spare key is with the neighbour at number 7");

        Assert.That(_store.Search(Alice, "mat"), Is.Empty);
        var fact = _store.Search(Alice, "neighbour").Single();
        Assert.That((fact.Id, fact.UpdatedAt, fact.CreatedAt), Is.EqualTo((id, Now, Now - 60)));
    }

    [Test]
    public void Forget_deletes_the_fact()
    {
        var id = _store.Remember(Alice, MemoryScope.Method, "restart the router by unplugging it for ten seconds");

        _store.Forget(Alice, id);

        Assert.That(_store.Search(Alice, "router"), Is.Empty);
        Assert.That(_store.Get(id), Is.Null);
        Assert.That(() => _store.Forget(Alice, id), Throws.TypeOf<MemoryException>().With.Message.EqualTo($"there is no memory #{id} that you may change"));
        Assert.That(() => _store.Update(Alice, 999, "x"), Throws.TypeOf<MemoryException>().With.Message.EqualTo("there is no memory #999 that you may change"));
    }

    [TestCase("")]
    [TestCase("   \n\t ")]
    [TestCase("bell\u0007")]
    [TestCase("escape \u001b[31mred")]
    [TestCase("nul\0byte")]
    public void Empty_text_and_control_characters_are_refused(string text) =>
        Assert.That(() => _store.Remember(Alice, MemoryScope.Household, text), Throws.TypeOf<MemoryException>());

    [Test]
    public void Text_is_at_most_2000_characters()
    {
        Assert.That(_store.Remember(Alice, MemoryScope.Household, new string('a', 2000)), Is.GreaterThan(0));
        var refused = Assert.Throws<MemoryException>(() => _store.Remember(Alice, MemoryScope.Household, new string('b', 2001)))!;
        Assert.That(refused.Message, Does.StartWith("the text is 2001 characters; at most 2000"));
        Assert.That(() => _store.Update(Alice, 1, new string('c', 2001)), Throws.TypeOf<MemoryException>());
        Assert.That(() => _store.Remember(Alice, "secret", "x"), Throws.TypeOf<MemoryException>().With.Message.Contains("unknown scope"));
    }

    [Test]
    public void A_topic_is_one_short_line()
    {
        Assert.That(() => _store.Remember(Alice, MemoryScope.Household, "x", new string('t', 65)), Throws.TypeOf<MemoryException>());
        Assert.That(() => _store.Remember(Alice, MemoryScope.Household, "x", "two\nlines"), Throws.TypeOf<MemoryException>());
        Assert.That(_store.Get(_store.Remember(Alice, MemoryScope.Method, "x", "  oven  "))!.Subject, Is.EqualTo("oven"));
    }

    // --- the FTS query is never syntax ---

    [TestCase("\"")]
    [TestCase("wifi\"")]
    [TestCase("\"wifi\" OR *")]
    [TestCase("wifi*")]
    [TestCase("*")]
    [TestCase("NEAR(wifi password, 2)")]
    [TestCase("wifi NOT password")]
    [TestCase("wifi AND")]
    [TestCase("AND OR NOT")]
    [TestCase("-wifi")]
    [TestCase("+wifi")]
    [TestCase("(wifi")]
    [TestCase("wifi)")]
    [TestCase("text:wifi")]
    [TestCase("topic : wifi")]
    [TestCase("{text topic}:wifi")]
    [TestCase("- text:wifi")]
    [TestCase("^wifi")]
    [TestCase("memory_fts")]
    [TestCase("rank:bm25")]
    [TestCase("'); DROP TABLE memory_facts; --")]
    [TestCase("\"\" \"\"\" \"'")]
    [TestCase("wifi\0password")]
    [TestCase("\u0301\u0301")]
    [TestCase("caf\u0065\u0301")]
    [TestCase("𝔴𝔦𝔣𝔦 😀 wifi")]
    public void Any_query_text_is_searched_as_plain_words_and_never_breaks_the_search(string query)
    {
        var wifi = _store.Remember(Alice, MemoryScope.Household, "the wifi password is on the router's label", "network");
        _store.Remember(Alice, MemoryScope.Household, "the text of the contract is in the blue folder");

        var match = MemoryStore.MatchQuery(query);
        if (match is not null)
        {
            Assert.That(match, Does.Match("^\"[\\p{L}\\p{N}\\p{M}\\p{Cs}]+\"( OR \"[\\p{L}\\p{N}\\p{M}\\p{Cs}]+\")*$"));
        }
        var found = _store.Search(Alice, query);

        var words = query.Split([' ', '"', '*', '(', ')', ':', '-', '+', '^', '\0', '{', '}', ','], StringSplitOptions.RemoveEmptyEntries);
        Assert.That(found.Any(f => f.Id == wifi), Is.EqualTo(words.Contains("wifi") || words.Contains("password")));
        Assert.That(_store.Usage().Facts, Is.EqualTo(2));
    }

    [Test]
    public void Operators_are_words_a_prefix_star_is_not_a_wildcard_and_a_column_name_is_a_word()
    {
        var near = _store.Remember(Alice, MemoryScope.Household, "the bakery near the station opens at six");
        var wifi = _store.Remember(Alice, MemoryScope.Household, "the wifi password is on the router");

        Assert.That(_store.Search(Alice, "NEAR").Select(f => f.Id), Is.EqualTo(new[] { near }));
        Assert.That(_store.Search(Alice, "bak*"), Is.Empty);
        Assert.That(_store.Search(Alice, "NOT wifi").Select(f => f.Id), Is.EqualTo(new[] { wifi }));
        Assert.That(_store.Search(Alice, "text:station").Select(f => f.Id), Is.EqualTo(new[] { near }));
        Assert.That(MemoryStore.MatchQuery("a b a A"), Is.EqualTo("\"a\" OR \"b\""));
        Assert.That(MemoryStore.MatchQuery(string.Join(' ', Enumerable.Range(0, 40).Select(i => "w" + i)))!.Split(" OR "), Has.Length.EqualTo(16));
        Assert.That(MemoryStore.MatchQuery(new string('x', 500)), Is.EqualTo($"\"{new string('x', 64)}\""));
        Assert.That(MemoryStore.MatchQuery(" ,.;:!?*\"()"), Is.Null);
        Assert.That(_store.Search(Alice, " ,.;:!?*\"()"), Is.Empty);
    }

    // --- privacy ---

    [Test]
    public void Another_persons_facts_are_invisible_to_a_non_admin()
    {
        var bobs = _store.Remember(Bob, MemoryScope.Person, "Bob's birthday is on the 4th of May");
        var shared = _store.Remember(Bob, MemoryScope.Household, "Bob's birthday party is in the garden");

        Assert.That(_store.Search(Alice, "birthday").Select(f => f.Id), Is.EqualTo(new[] { shared }));
        Assert.That(_store.Search(Alice, "birthday", MemoryScope.Person), Is.Empty);
        Assert.That(_store.Search(Alice, "birthday", subject: "whatsapp:4915100000002"), Is.Empty);
        Assert.That(_store.Search(Alice, "birthday", subject: "4915100000002"), Is.Empty);
        Assert.That(_store.Search(Speakers.Console("bob"), "birthday", MemoryScope.Person), Is.Empty, "the same name on the console is another key");
        Assert.That(_store.Search(Speakers.Task(1), "birthday", MemoryScope.Person), Is.Empty);

        var update = Assert.Throws<MemoryException>(() => _store.Update(Alice, bobs, "Bob's birthday is unknown"))!;
        var forget = Assert.Throws<MemoryException>(() => _store.Forget(Alice, bobs))!;
        Assert.That(update.Message, Is.EqualTo($"there is no memory #{bobs} that you may change"), "the same words as for no fact at all");
        Assert.That(forget.Message, Is.EqualTo(update.Message));
        Assert.That(_store.Get(bobs)!.Text, Is.EqualTo("Bob's birthday is on the 4th of May"));
        Assert.That(_store.Get(bobs)!.UseCount, Is.EqualTo(0), "hidden facts are not counted as used");

        Assert.That(_store.Search(Bob, "birthday").Select(f => f.Id), Is.EquivalentTo(new[] { bobs, shared }));
    }

    [Test]
    public void Shared_facts_can_be_changed_and_forgotten_by_anyone()
    {
        var household = _store.Remember(Bob, MemoryScope.Household, "the heating runs from six to ten");
        var method = _store.Remember(Bob, MemoryScope.Method, "the printer needs its tray pushed in hard");

        _store.Update(Alice, household, "the heating runs from seven to ten");
        _store.Forget(Alice, method);

        Assert.That(_store.Get(household)!.Text, Is.EqualTo("the heating runs from seven to ten"));
        Assert.That(_store.Get(method), Is.Null);
    }

    [Test]
    public void An_admin_sees_changes_and_forgets_anyones_facts_and_may_remember_about_others()
    {
        var bobs = _store.Remember(Bob, MemoryScope.Person, "Bob takes the train at 7:40");
        var aboutAlice = _store.Remember(Admin, MemoryScope.Person, "Alice is vegetarian", "+4915100000001");

        Assert.That(_store.Search(Admin, "train").Select(f => f.Id), Is.EqualTo(new[] { bobs }));
        Assert.That(_store.Get(aboutAlice)!.Subject, Is.EqualTo("whatsapp:4915100000001"));
        Assert.That(_store.Get(aboutAlice)!.CreatedBy, Is.EqualTo("whatsapp:4915100000009"));
        Assert.That(_store.Search(Alice, "vegetarian").Select(f => f.Id), Is.EqualTo(new[] { aboutAlice }), "it is Alice's fact");
        Assert.That(_store.Search(Bob, "vegetarian"), Is.Empty);
        _store.Update(Admin, bobs, "Bob takes the train at 7:50");
        _store.Forget(Admin, bobs);
        Assert.That(_store.Get(bobs), Is.Null);
        Assert.That(_store.Get(_store.Remember(Admin, MemoryScope.Person, "x", "console:carol"))!.Subject, Is.EqualTo("console:carol"));
    }

    [TestCase("4915100000002")]
    [TestCase("whatsapp:4915100000002")]
    [TestCase("console:bob")]
    public void A_non_admin_cannot_remember_about_someone_else(string subject)
    {
        var refused = Assert.Throws<MemoryException>(() => _store.Remember(Alice, MemoryScope.Person, "Bob owes me ten euros", subject))!;

        Assert.That(refused.Message, Does.StartWith("only admins may remember facts about someone else"));
        Assert.That(_store.Usage().Facts, Is.EqualTo(0));
        Assert.That(_store.Get(_store.Remember(Alice, MemoryScope.Person, "x", "whatsapp:4915100000001"))!.Subject, Is.EqualTo(Alice.ConversationKey),
            "naming yourself is fine");
    }

    [TestCase("bob")]
    [TestCase("task:3")]
    [TestCase("whatsapp:49 151")]
    [TestCase("whatsapp:49151\n00000002")]
    [TestCase("console:../etc")]
    [TestCase("console:Bob")]
    public void A_person_subject_must_be_a_persons_key(string subject) =>
        Assert.That(() => _store.Remember(Admin, MemoryScope.Person, "x", subject),
            Throws.TypeOf<MemoryException>().With.Message.Contains("is not a person's conversation key"));

    [Test]
    public void A_tasks_conversation_is_no_person_to_remember_about()
    {
        var refused = Assert.Throws<MemoryException>(() => _store.Remember(Speakers.Task(7), MemoryScope.Person, "likes reminders in the morning"))!;

        Assert.That(refused.Message, Does.Contain("household or method"));
        Assert.That(_store.Remember(Speakers.Task(7), MemoryScope.Household, "the bins went out"), Is.GreaterThan(0));
    }

    // --- caps ---

    [Test]
    public void Over_the_fact_cap_the_least_used_go_first_then_the_longest_unused_then_the_oldest()
    {
        var store = Store(maxFacts: 4, maxTotalText: 1_000_000);
        var used = store.Remember(Alice, MemoryScope.Household, "alpha is used twice");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var unusedOld = store.Remember(Alice, MemoryScope.Household, "bravo never used");
        var unusedTwin = store.Remember(Alice, MemoryScope.Household, "charlie never used, same second as bravo");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var usedOnceLate = store.Remember(Alice, MemoryScope.Household, "delta is used once");
        store.Search(Alice, "alpha");
        store.Search(Alice, "alpha");
        _clock.Advance(TimeSpan.FromMinutes(1));
        store.Search(Alice, "delta");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var fifth = store.Remember(Alice, MemoryScope.Household, "echo is new");
        Assert.That(store.Get(unusedOld), Is.Null, "fewest uses, longest unused, lowest id");
        Assert.That(store.Get(unusedTwin), Is.Not.Null);

        var sixth = store.Remember(Alice, MemoryScope.Household, "foxtrot is new");
        Assert.That(store.Get(unusedTwin), Is.Null);

        // Now: alpha (2 uses), delta (1 use), echo and foxtrot (0 uses, unused since the same second; echo has the lower id).
        // The newest fact itself never goes.
        store.Remember(Alice, MemoryScope.Household, "golf is new");
        Assert.That(store.Get(fifth), Is.Null);
        Assert.That(store.Get(sixth), Is.Not.Null);
        Assert.That(store.Get(used), Is.Not.Null);
        Assert.That(store.Get(usedOnceLate), Is.Not.Null);
        Assert.That(store.Usage().Facts, Is.EqualTo(4));
    }

    [Test]
    public void Over_the_text_cap_as_many_least_used_facts_go_as_it_takes()
    {
        var store = Store(maxFacts: 100, maxTotalText: 3500);
        var a = store.Remember(Alice, MemoryScope.Method, Text("apple", 1000));
        var b = store.Remember(Alice, MemoryScope.Method, Text("banana", 1000));
        var c = store.Remember(Alice, MemoryScope.Method, Text("cherry", 900));
        store.Search(Alice, "cherry");
        Assert.That(store.Usage(), Is.EqualTo((3L, 2900L)));

        var d = store.Remember(Alice, MemoryScope.Method, Text("damson", 2000));

        Assert.That(new[] { a, b, c, d }.Select(id => store.Get(id) is not null), Is.EqualTo(new[] { false, false, true, true }));
        Assert.That(store.Usage(), Is.EqualTo((2L, 2900L)));

        store.Update(Alice, c, Text("elder", 2000));
        Assert.That(store.Usage(), Is.EqualTo((1L, 2000L)), "a fact that grows pushes others out, never itself");
        Assert.That(store.Get(c), Is.Not.Null);
    }

    /// <summary>A text of exactly <paramref name="length"/> characters that <paramref name="word"/> finds.</summary>
    private static string Text(string word, int length) => word + " " + new string('x', length - word.Length - 1);

    [Test]
    public void The_default_cap_is_5000_facts()
    {
        _db.Use(c =>
        {
            using var tx = c.BeginTransaction();
            using var command = c.CreateCommand();
            command.CommandText = """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                INSERT INTO memory_facts(scope, subject, text, created_at, updated_at, last_used_at, use_count, created_by)
                SELECT 'household', '', 'bulk fact ' || i, $now, $now, $now + i, 1, 'console:test' FROM n
                """;
            command.Parameters.AddWithValue("$now", Now);
            command.ExecuteNonQuery();
            tx.Commit();
            return 0;
        });
        Assert.That(_store.Usage().Facts, Is.EqualTo(5000));

        var id = _store.Remember(Alice, MemoryScope.Household, "the one over the cap");

        Assert.That(_store.Usage().Facts, Is.EqualTo(5000));
        Assert.That(_store.Get(id), Is.Not.Null);
        Assert.That(_store.Search(Alice, "1", limit: 20), Is.Empty, "bulk fact 1 was the longest unused");
        Assert.That(_store.Search(Alice, "2", limit: 20).Single().Text, Is.EqualTo("bulk fact 2"));
    }
}
