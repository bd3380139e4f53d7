using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BoxBot.Agent.Storage;
using BoxBot.Agent.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using static BoxBot.Agent.Storage.Sql;

namespace BoxBot.Agent.Memory;

/// <summary>What a fact is about, which also decides who may see it.</summary>
public static class MemoryScope
{
    /// <summary>About one person, whose conversation key is the subject: only they (in their own conversations) and admins see it.</summary>
    public const string Person = "person";

    /// <summary>About the household (where things are, who lives here): shared with everyone who talks to the box.</summary>
    public const string Household = "household";

    /// <summary>How to get something done (an approach that worked, a device's quirk): shared.</summary>
    public const string Method = "method";

    public static readonly IReadOnlyList<string> All = [Person, Household, Method];
}

/// <summary>One remembered fact. Times are Unix seconds.</summary>
/// <param name="Subject">For person facts the person's conversation key; for household and method facts an optional topic ("" for none).</param>
/// <param name="CreatedBy">The conversation key of the speaker who first remembered it.</param>
public sealed record MemoryFact(
    long Id, string Scope, string Subject, string Text, long CreatedAt, long UpdatedAt, long LastUsedAt, long UseCount, string CreatedBy);

/// <summary>A memory call was refused; the message says why, in words fit for the model.</summary>
public sealed class MemoryException(string message) : Exception(message);

/// <summary>
/// The agent's long-term memory in its database: short facts, ranked by an FTS5 search, with a size cap that evicts the
/// least used facts first. The privacy rule lives here, not in the tools: a person fact is visible (searchable,
/// changeable, forgettable) only to that person, in their own conversations, and to admins; household and method facts
/// are shared. A fact that may not be seen is reported exactly like one that does not exist.
/// </summary>
public sealed partial class MemoryStore
{
    public const int MaxTextLength = 2000;
    public const int MaxTopicLength = 64;
    public const int MaxResults = 20;

    /// <summary>The default cap on the number of facts.</summary>
    public const int MaxFacts = 5000;

    /// <summary>The default cap on all facts' text together, in characters (about 2 MB).</summary>
    public const long MaxTotalText = 2_000_000;

    /// <summary>Words of a query beyond this many are ignored.</summary>
    internal const int MaxQueryWords = 16;

    private const int MaxWordLength = 64;

    private readonly AgentDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly int _maxFacts;
    private readonly long _maxTotalText;

    /// <param name="maxFacts">Beyond this many facts the least used go (tests use small caps).</param>
    /// <param name="maxTotalText">Beyond this many characters of text in all facts together the least used go.</param>
    public MemoryStore(AgentDatabase database, TimeProvider time, ILogger log, int maxFacts = MaxFacts, long maxTotalText = MaxTotalText)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFacts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotalText, MaxTextLength);
        _database = database;
        _time = time;
        _log = log;
        _maxFacts = maxFacts;
        _maxTotalText = maxTotalText;
    }

    /// <summary>
    /// Stores a fact and returns its id. The same text already stored with the same scope and subject is not stored twice:
    /// its id is returned. When the store is over its caps afterwards, the least used other facts are evicted.
    /// </summary>
    /// <param name="subject">Person facts: whose (a conversation key, or WhatsApp digits); only admins may name someone
    /// other than themselves; absent means the speaker. Household and method facts: an optional topic.</param>
    /// <exception cref="MemoryException">The scope, text or subject is not allowed.</exception>
    public long Remember(Speaker speaker, string scope, string text, string? subject = null)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        CheckScope(scope);
        var clean = CleanText(text);
        var about = SubjectFor(speaker, scope, subject);
        var now = Now();
        var (id, evicted) = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            if (Scalar(c, "SELECT id FROM memory_facts WHERE scope = $a AND subject = $b AND text = $c", scope, about, clean) is long existing)
            {
                Execute(c, "UPDATE memory_facts SET updated_at = $b WHERE id = $a", existing, now);
                tx.Commit();
                return (existing, 0);
            }
            var inserted = (long)Scalar(c, """
                INSERT INTO memory_facts(scope, subject, text, created_at, updated_at, last_used_at, created_by)
                VALUES ($a, $b, $c, $d, $d, $d, $e) RETURNING id
                """, scope, about, clean, now, speaker.ConversationKey)!;
            var gone = Evict(c, inserted);
            tx.Commit();
            return (inserted, gone);
        });
        if (evicted > 0)
        {
            LogEvicted(_log, evicted);
        }
        return id;
    }

    /// <summary>Replaces a fact's text (its scope and subject stay).</summary>
    /// <exception cref="MemoryException">There is no such fact that <paramref name="speaker"/> may see, or the text is not allowed.</exception>
    public void Update(Speaker speaker, long id, string text)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        var clean = CleanText(text);
        var now = Now();
        var evicted = _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            CheckVisible(c, speaker, id);
            Execute(c, "UPDATE memory_facts SET text = $b, updated_at = $c WHERE id = $a", id, clean, now);
            var gone = Evict(c, id);
            tx.Commit();
            return gone;
        });
        if (evicted > 0)
        {
            LogEvicted(_log, evicted);
        }
    }

    /// <summary>Deletes a fact.</summary>
    /// <exception cref="MemoryException">There is no such fact that <paramref name="speaker"/> may see.</exception>
    public void Forget(Speaker speaker, long id)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            CheckVisible(c, speaker, id);
            Execute(c, "DELETE FROM memory_facts WHERE id = $a", id);
            tx.Commit();
            return 0;
        });
    }

    /// <summary>
    /// The facts <paramref name="speaker"/> may see that match any word of <paramref name="query"/>, best first (bm25),
    /// at most <paramref name="limit"/> (1 to <see cref="MaxResults"/>). The query is never FTS5 syntax: its words are
    /// quoted one by one (<see cref="MatchQuery"/>). Every fact returned counts as used (use count and last use).
    /// </summary>
    /// <param name="scope">Only facts of this scope, when given.</param>
    /// <param name="subject">Only facts with this subject (a person's key or a topic), when given.</param>
    /// <exception cref="MemoryException">The scope is unknown.</exception>
    public IReadOnlyList<MemoryFact> Search(Speaker speaker, string query, string? scope = null, string? subject = null, int limit = 10)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxResults);
        if (scope is not null)
        {
            CheckScope(scope);
        }
        if (MatchQuery(query) is not { } match)
        {
            return [];
        }
        var wanted = subject is null ? null : PersonKey(subject.Trim()) ?? subject.Trim();
        var now = Now();
        return _database.Use(c =>
        {
            using var tx = c.BeginTransaction();
            var facts = new List<MemoryFact>();
            using (var command = Command(c, """
                SELECT f.id, f.scope, f.subject, f.text, f.created_at, f.updated_at, f.last_used_at, f.use_count, f.created_by
                FROM memory_fts JOIN memory_facts f ON f.id = memory_fts.rowid
                WHERE memory_fts MATCH $a
                  AND ($b IS NULL OR f.scope = $b)
                  AND ($c IS NULL OR f.subject = $c)
                  AND ($d = 1 OR f.scope <> 'person' OR f.subject = $e)
                ORDER BY bm25(memory_fts), f.id
                LIMIT $f
                """, match, scope, wanted, speaker.IsAdmin ? 1 : 0, speaker.Person, limit))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    facts.Add(ReadFact(reader) with { LastUsedAt = now });
                }
            }
            for (var i = 0; i < facts.Count; i++)
            {
                Execute(c, "UPDATE memory_facts SET use_count = use_count + 1, last_used_at = $b WHERE id = $a", facts[i].Id, now);
                facts[i] = facts[i] with { UseCount = facts[i].UseCount + 1 };
            }
            tx.Commit();
            return (IReadOnlyList<MemoryFact>)facts;
        });
    }

    /// <summary>The number of facts and their text's total length (for status and tests).</summary>
    public (long Facts, long TextLength) Usage() => _database.Use(c =>
    {
        using var command = Command(c, "SELECT count(*), coalesce(sum(length(text)), 0) FROM memory_facts");
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    });

    /// <summary>A fact by id, whoever may see it (tests).</summary>
    internal MemoryFact? Get(long id) => _database.Use(c =>
    {
        using var command = Command(c, """
            SELECT id, scope, subject, text, created_at, updated_at, last_used_at, use_count, created_by FROM memory_facts WHERE id = $a
            """, id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadFact(reader) : null;
    });

    /// <summary>
    /// Turns arbitrary text into an FTS5 query that can only mean "any of these words": each run of letters, digits and
    /// combining marks becomes one double-quoted string (which cannot hold a quote, so nothing in it is syntax), joined
    /// with OR. Operators (AND, NOT, NEAR), prefixes (*), column filters (text:), groups and signs are thereby either
    /// dropped as separators or searched as plain words. Null when the text holds no word.
    /// </summary>
    internal static string? MatchQuery(string text)
    {
        var words = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes().Append(new Rune(' ')))
        {
            if (IsWordRune(rune))
            {
                if (word.Length + rune.Utf16SequenceLength <= MaxWordLength)
                {
                    word.Append(rune.ToString());
                }
                continue;
            }
            if (word.Length > 0 && words.Count < MaxQueryWords && seen.Add(word.ToString()))
            {
                words.Add($"\"{word}\"");
            }
            word.Clear();
        }
        return words.Count == 0 ? null : string.Join(" OR ", words);
    }

    private static bool IsWordRune(Rune rune) =>
        Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;

    private static void CheckScope(string scope)
    {
        if (!MemoryScope.All.Contains(scope))
        {
            throw new MemoryException($"unknown scope \"{scope}\" (person, household or method)");
        }
    }

    /// <summary>The text as stored: trimmed, line breaks as \n, no other control characters, 1 to 2000 characters.</summary>
    private static string CleanText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = text.ReplaceLineEndings("\n").Trim();
        if (clean.Length == 0)
        {
            throw new MemoryException("the text is empty");
        }
        if (clean.Length > MaxTextLength)
        {
            throw new MemoryException($"the text is {clean.Length} characters; at most {MaxTextLength}: keep a fact short");
        }
        if (clean.Any(ch => char.IsControl(ch) && ch is not '\n' and not '\t'))
        {
            throw new MemoryException("the text holds control characters");
        }
        return clean;
    }

    private static string SubjectFor(Speaker speaker, string scope, string? subject)
    {
        var given = string.IsNullOrWhiteSpace(subject) ? null : subject.Trim();
        if (scope != MemoryScope.Person)
        {
            if (given is null)
            {
                return "";
            }
            if (given.Length > MaxTopicLength || given.Any(char.IsControl))
            {
                throw new MemoryException($"a topic is one line of at most {MaxTopicLength} characters");
            }
            return given;
        }
        if (given is null)
        {
            // A task's conversation speaks for a task, not for a person: its key is no one's to remember things about.
            return speaker.Channel == Speaker.Task && speaker.OnBehalfOf is null
                ? throw new MemoryException("a task's conversation is no person's: remember this as a household or method fact")
                : speaker.Person;
        }
        var key = PersonKey(given) ?? throw new MemoryException(
            $"\"{given}\" is not a person's conversation key (whatsapp:<digits> or console:<user>)");
        if (key != speaker.Person && !speaker.IsAdmin)
        {
            throw new MemoryException("only admins may remember facts about someone else; leave the subject out to remember this about yourself");
        }
        return key;
    }

    /// <summary>A person's conversation key from a key or from bare WhatsApp digits (with or without +); null when neither.</summary>
    internal static string? PersonKey(string text)
    {
        if (DigitsPattern().IsMatch(text))
        {
            return Speaker.WhatsApp + ":" + text.TrimStart('+');
        }
        return PersonKeyPattern().IsMatch(text) ? text : null;
    }

    private static void CheckVisible(SqliteConnection c, Speaker speaker, long id)
    {
        using var command = Command(c, "SELECT scope, subject FROM memory_facts WHERE id = $a", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || (reader.GetString(0) == MemoryScope.Person && reader.GetString(1) != speaker.Person && !speaker.IsAdmin))
        {
            throw new MemoryException($"there is no memory #{id} that you may change");
        }
    }

    /// <summary>Deletes the least used facts (fewest uses, then longest unused, then oldest) other than <paramref name="keep"/> until within the caps.</summary>
    private int Evict(SqliteConnection c, long keep)
    {
        long count, total;
        using (var command = Command(c, "SELECT count(*), coalesce(sum(length(text)), 0) FROM memory_facts"))
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            (count, total) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        var evicted = 0;
        while (count > _maxFacts || total > _maxTotalText)
        {
            using var command = Command(c, """
                DELETE FROM memory_facts WHERE id = (SELECT id FROM memory_facts WHERE id <> $a ORDER BY use_count, last_used_at, id LIMIT 1)
                RETURNING length(text)
                """, keep);
            if (command.ExecuteScalar() is not long length)
            {
                break;
            }
            count--;
            total -= length;
            evicted++;
        }
        return evicted;
    }

    private static MemoryFact ReadFact(SqliteDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetString(8));

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    [GeneratedRegex("^\\+?[0-9]{6,15}\\z")]
    private static partial Regex DigitsPattern();

    [GeneratedRegex("^(whatsapp:[0-9]{6,15}|console:[a-z_][a-z0-9_.-]{0,31})\\z")]
    private static partial Regex PersonKeyPattern();

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "memory over its cap: {Count} least used facts forgotten")]
    private static partial void LogEvicted(ILogger logger, int count);
}
