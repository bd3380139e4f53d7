using System.Globalization;
using System.Text.RegularExpressions;

namespace BoxBot.Agent.Tasks;

/// <summary>The forms a schedule takes.</summary>
public enum ScheduleKind
{
    /// <summary>Once, at a moment.</summary>
    At,

    /// <summary>Every day at a time of day.</summary>
    Daily,

    /// <summary>On some days of the week at a time of day.</summary>
    Weekly,

    /// <summary>Every so many minutes, counted from the first run.</summary>
    Every,
}

/// <summary>
/// When a task runs. Written as one of:
/// <c>at 2026-11-24 08:00</c> (or ISO 8601 with its own offset: <c>at 2026-11-24T07:00:00Z</c>),
/// <c>in 20 minutes</c> / <c>in 2 hours</c> / <c>in 3 days</c> (becomes an <c>at</c> when read),
/// <c>daily 08:00</c>, <c>weekly mon,thu 08:00</c>, <c>every 30 minutes</c> / <c>every 2 hours</c> (at least 5 minutes).
/// Times of day and dates without an offset are in the box's zone: UTC plus a fixed offset (no daylight saving). A
/// moment is kept in UTC; daily and weekly schedules are kept as written, so when the offset is changed each keeps the
/// next run it had and follows the new offset from the run after.
/// </summary>
public sealed partial class TaskSchedule
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(3660);

    /// <summary>What a person is told when a schedule cannot be read.</summary>
    public const string Forms =
        "a schedule is one of: \"at 2026-11-24 08:00\", \"in 20 minutes\" (or hours, days), \"daily 08:00\", " +
        "\"weekly mon,thu 08:00\", \"every 30 minutes\" (at least 5) or \"every 2 hours\"";

    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    private TaskSchedule(ScheduleKind kind, string text)
    {
        Kind = kind;
        Text = text;
    }

    public ScheduleKind Kind { get; }

    /// <summary>The canonical text, as stored: what <see cref="Parse"/> reads back to the same schedule.</summary>
    public string Text { get; }

    /// <summary><see cref="ScheduleKind.At"/>: the moment, in UTC.</summary>
    public DateTimeOffset At { get; private init; }

    /// <summary><see cref="ScheduleKind.Daily"/> and <see cref="ScheduleKind.Weekly"/>: the time of day in the box's zone.</summary>
    public TimeOnly TimeOfDay { get; private init; }

    /// <summary><see cref="ScheduleKind.Weekly"/>: the days, Monday first.</summary>
    public IReadOnlyList<DayOfWeek> Days { get; private init; } = [];

    /// <summary><see cref="ScheduleKind.Every"/>: the interval.</summary>
    public TimeSpan Interval { get; private init; }

    public bool Recurring => Kind != ScheduleKind.At;

    /// <summary>Reads a schedule (any form above, case and spacing free).</summary>
    /// <param name="now">For <c>in ...</c>.</param>
    /// <param name="offset">The box's zone, for times without an offset.</param>
    /// <exception cref="TaskException">It is none of the forms, or out of range.</exception>
    public static TaskSchedule Parse(string text, DateTimeOffset now, TimeSpan offset)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = string.Join(' ', text.Trim().ToLowerInvariant().Split(' ', '\t').Where(w => w.Length > 0)).Replace(", ", ",", StringComparison.Ordinal);
        if (AtPattern().Match(clean) is { Success: true } at)
        {
            return AtMoment(ParseMoment(at, offset));
        }
        if (InPattern().Match(clean) is { Success: true } after)
        {
            var count = Number(after.Groups[1].Value);
            var ahead = after.Groups[2].Value[0] switch
            {
                'm' => TimeSpan.FromMinutes(count),
                'h' => TimeSpan.FromHours(count),
                _ => TimeSpan.FromDays(count),
            };
            if (count < 1 || ahead > MaxAhead)
            {
                throw new TaskException($"\"{text}\" is out of range: from 1 minute to {MaxAhead.Days} days ahead");
            }
            return AtMoment(now.ToUniversalTime() + ahead);
        }
        if (DailyPattern().Match(clean) is { Success: true } daily)
        {
            var time = TimeOfDayFrom(daily.Groups[1].Value, text);
            return new TaskSchedule(ScheduleKind.Daily, "daily " + Clock(time)) { TimeOfDay = time };
        }
        if (WeeklyPattern().Match(clean) is { Success: true } weekly)
        {
            var days = weekly.Groups[1].Value.Split(',')
                .Select(d => (DayOfWeek)Array.IndexOf(DayNames, d))
                .Distinct()
                .OrderBy(d => ((int)d + 6) % 7)
                .ToArray();
            var time = TimeOfDayFrom(weekly.Groups[2].Value, text);
            var names = string.Join(',', days.Select(d => DayNames[(int)d]));
            return new TaskSchedule(ScheduleKind.Weekly, $"weekly {names} {Clock(time)}") { TimeOfDay = time, Days = days };
        }
        if (EveryPattern().Match(clean) is { Success: true } every)
        {
            var count = Number(every.Groups[1].Value);
            var interval = every.Groups[2].Value[0] == 'm' ? TimeSpan.FromMinutes(count) : TimeSpan.FromHours(count);
            if (interval < MinInterval || interval > MaxInterval)
            {
                throw new TaskException($"\"{text}\" is out of range: every 5 minutes at the least, every {MaxInterval.Days} days at the most (or use daily or weekly)");
            }
            var canonical = interval.TotalMinutes % 60 == 0
                ? string.Create(CultureInfo.InvariantCulture, $"every {(long)interval.TotalHours} hours")
                : string.Create(CultureInfo.InvariantCulture, $"every {(long)interval.TotalMinutes} minutes");
            return new TaskSchedule(ScheduleKind.Every, canonical) { Interval = interval };
        }
        throw new TaskException($"\"{text}\" is not a schedule: {Forms}");
    }

    /// <summary>The first run of a schedule set at <paramref name="now"/>; null for a moment that is not after now.</summary>
    public DateTimeOffset? First(DateTimeOffset now, TimeSpan offset) => Kind switch
    {
        ScheduleKind.At => At > now ? At : null,
        ScheduleKind.Every => now.ToUniversalTime() + Interval,
        _ => Slot(now, offset),
    };

    /// <summary>
    /// The run after one that was due at <paramref name="previous"/> and fired at <paramref name="now"/>: the first slot
    /// after now, so runs missed while the box was off are not made up one by one. Null for a moment (it ran).
    /// </summary>
    public DateTimeOffset? After(DateTimeOffset previous, DateTimeOffset now, TimeSpan offset)
    {
        var from = previous > now ? previous : now;
        switch (Kind)
        {
            case ScheduleKind.At:
                return null;
            case ScheduleKind.Every:
                // Keeps the phase of the first run: previous + k * interval, the smallest that is after now.
                var steps = Math.Max(1, ((from - previous).Ticks / Interval.Ticks) + 1);
                return previous.ToUniversalTime() + (Interval * steps);
            default:
                return Slot(from, offset);
        }
    }

    /// <summary>The schedule for people: moments in the box's zone.</summary>
    public string Describe(TimeSpan offset) =>
        Kind == ScheduleKind.At ? "at " + At.ToOffset(offset).ToString("ddd yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : Text;

    /// <summary>"UTC" or "UTC+01:00": the name of the box's zone in messages.</summary>
    public static string ZoneName(TimeSpan offset) =>
        offset == TimeSpan.Zero ? "UTC" : "UTC" + (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString("hh\\:mm", CultureInfo.InvariantCulture);

    /// <summary>The first daily or weekly slot strictly after <paramref name="after"/>.</summary>
    private DateTimeOffset Slot(DateTimeOffset after, TimeSpan offset)
    {
        var local = DateOnly.FromDateTime(after.ToOffset(offset).DateTime);
        for (var day = 0; day <= 7; day++)
        {
            var date = local.AddDays(day);
            if (Kind == ScheduleKind.Weekly && !Days.Contains(date.DayOfWeek))
            {
                continue;
            }
            var candidate = new DateTimeOffset(date.ToDateTime(TimeOfDay), offset);
            if (candidate > after)
            {
                return candidate.ToUniversalTime();
            }
        }
        throw new InvalidOperationException($"no slot for {Text} within a week");
    }

    private static TaskSchedule AtMoment(DateTimeOffset moment)
    {
        var utc = moment.ToUniversalTime();
        utc = utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond));
        return new TaskSchedule(ScheduleKind.At, "at " + utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)) { At = utc };
    }

    private static DateTimeOffset ParseMoment(Match at, TimeSpan offset)
    {
        var text = $"{at.Groups[1].Value} {at.Groups[2].Value}" + (at.Groups[3].Success ? at.Groups[3].Value : ":00");
        if (!DateTime.TryParseExact(text, "yyyy-MM-dd H:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            throw new TaskException($"\"at {at.Groups[1].Value} {at.Groups[2].Value}\" is not a real date and time");
        }
        var zone = at.Groups[4].Value switch
        {
            "" => offset,
            "z" => TimeSpan.Zero,
            var given => OffsetFrom(given),
        };
        return new DateTimeOffset(local, zone);
    }

    private static TimeSpan OffsetFrom(string text)
    {
        var value = new TimeSpan(int.Parse(text[1..3], CultureInfo.InvariantCulture), int.Parse(text[4..6], CultureInfo.InvariantCulture), 0);
        if (value > TimeSpan.FromHours(14))
        {
            throw new TaskException($"\"{text}\" is not a UTC offset");
        }
        return text[0] == '-' ? -value : value;
    }

    private static string Clock(TimeOnly time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);

    private static TimeOnly TimeOfDayFrom(string text, string schedule) =>
        TimeOnly.TryParseExact(text.PadLeft(5, '0'), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : throw new TaskException($"\"{schedule}\" has no time of day between 00:00 and 23:59");

    private static int Number(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : int.MaxValue;

    [GeneratedRegex("^at ([0-9]{4}-[0-9]{2}-[0-9]{2})[ t]([0-9]{1,2}:[0-9]{2})(:[0-9]{2})?(z|[+-][0-9]{2}:[0-9]{2})?\\z")]
    private static partial Regex AtPattern();

    [GeneratedRegex("^in ([0-9]{1,6}) (minutes?|mins?|hours?|days?)\\z")]
    private static partial Regex InPattern();

    [GeneratedRegex("^daily ([0-9]{1,2}:[0-9]{2})\\z")]
    private static partial Regex DailyPattern();

    [GeneratedRegex("^weekly ((?:mon|tue|wed|thu|fri|sat|sun)(?:,(?:mon|tue|wed|thu|fri|sat|sun))*) ([0-9]{1,2}:[0-9]{2})\\z")]
    private static partial Regex WeeklyPattern();

    [GeneratedRegex("^every ([0-9]{1,6}) (minutes?|mins?|hours?)\\z")]
    private static partial Regex EveryPattern();
}
