using BoxBot.Agent.Tasks;

namespace BoxBot.Agent.Tests.Tasks;

/// <summary>Reading schedules and the calendar arithmetic of their runs. 2026-11-23 is a Monday.</summary>
public class TaskScheduleTests
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Berlin = TimeSpan.FromHours(1);

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text + "Z", System.Globalization.CultureInfo.InvariantCulture);

    [TestCase("at 2026-11-24 08:00", 0, "at 2026-11-24T08:00:00Z")]
    [TestCase("at 2026-11-24 08:00", 60, "at 2026-11-24T07:00:00Z")]
    [TestCase("  AT   2026-11-24T08:00Z ", 60, "at 2026-11-24T08:00:00Z")]
    [TestCase("at 2026-11-24T08:00:30+05:30", 0, "at 2026-11-24T02:30:30Z")]
    [TestCase("at 2026-11-24 8:05", 0, "at 2026-11-24T08:05:00Z")]
    [TestCase("at 2026-11-24t08:00-03:00", 60, "at 2026-11-24T11:00:00Z")]
    [TestCase("in 20 minutes", 60, "at 2026-11-23T12:20:00Z")]
    [TestCase("in 1 min", 0, "at 2026-11-23T12:01:00Z")]
    [TestCase("in 1 hour", 0, "at 2026-11-23T13:00:00Z")]
    [TestCase("in 3 days", 0, "at 2026-11-26T12:00:00Z")]
    [TestCase("daily 8:00", 60, "daily 08:00")]
    [TestCase("Daily 23:59", 0, "daily 23:59")]
    [TestCase("weekly thu,mon,thu 08:00", 0, "weekly mon,thu 08:00")]
    [TestCase("Weekly Sun, Mon 7:30", 0, "weekly mon,sun 07:30")]
    [TestCase("every 5 minutes", 0, "every 5 minutes")]
    [TestCase("every 90 min", 0, "every 90 minutes")]
    [TestCase("every 120 minutes", 0, "every 2 hours")]
    [TestCase("every 1 hour", 0, "every 1 hours")]
    [TestCase("every 168 hours", 0, "every 168 hours")]
    public void Every_form_reads_to_its_canonical_text_which_reads_back_the_same(string text, int offsetMinutes, string canonical)
    {
        var offset = TimeSpan.FromMinutes(offsetMinutes);
        var schedule = TaskSchedule.Parse(text, Monday, offset);

        Assert.That(schedule.Text, Is.EqualTo(canonical));
        Assert.That(TaskSchedule.Parse(schedule.Text, Monday.AddYears(1), offset).Text, Is.EqualTo(canonical));
    }

    [TestCase("")]
    [TestCase("tomorrow")]
    [TestCase("at tomorrow 08:00")]
    [TestCase("at 2026-02-30 08:00")]
    [TestCase("at 2026-11-24 25:00")]
    [TestCase("at 2026-11-24 08:00+15:00")]
    [TestCase("at 2026-11-24")]
    [TestCase("in 0 minutes")]
    [TestCase("in 3661 days")]
    [TestCase("in -5 minutes")]
    [TestCase("in 5 weeks")]
    [TestCase("daily 24:00")]
    [TestCase("daily 8")]
    [TestCase("daily 08:60")]
    [TestCase("daily 08:00; weekly mon 09:00")]
    [TestCase("weekly 08:00")]
    [TestCase("weekly funday 08:00")]
    [TestCase("weekly mon,,thu 08:00")]
    [TestCase("every 4 minutes")]
    [TestCase("every 0 hours")]
    [TestCase("every 169 hours")]
    [TestCase("every 2 days")]
    [TestCase("every -5 minutes")]
    [TestCase("every 5\nminutes")]
    [TestCase("*/5 * * * *")]
    public void Anything_else_is_refused_with_the_forms_or_the_range(string text)
    {
        var refused = Assert.Throws<TaskException>(() => TaskSchedule.Parse(text, Monday, TimeSpan.Zero))!;
        Assert.That(refused.Message, Does.Contain("is not a schedule: a schedule is one of").Or.Contain("out of range").Or.Contain("not a real date")
            .Or.Contain("no time of day").Or.Contain("not a UTC offset"));
    }

    [Test]
    public void Refusals_say_what_to_write_instead()
    {
        Assert.That(Assert.Throws<TaskException>(() => TaskSchedule.Parse("every 4 minutes", Monday, TimeSpan.Zero))!.Message,
            Is.EqualTo("\"every 4 minutes\" is out of range: every 5 minutes at the least, every 7 days at the most (or use daily or weekly)"));
        Assert.That(Assert.Throws<TaskException>(() => TaskSchedule.Parse("noon", Monday, TimeSpan.Zero))!.Message, Is.EqualTo(
            "\"noon\" is not a schedule: a schedule is one of: \"at 2026-11-24 08:00\", \"in 20 minutes\" (or hours, days), \"daily 08:00\", " +
            "\"weekly mon,thu 08:00\", \"every 30 minutes\" (at least 5) or \"every 2 hours\""));
    }

    // --- first runs ---

    [TestCase("2026-11-23T07:59:59", "2026-11-23T08:00:00")]
    [TestCase("2026-11-23T08:00:00", "2026-11-24T08:00:00")]
    [TestCase("2026-11-23T12:00:00", "2026-11-24T08:00:00")]
    [TestCase("2026-12-31T23:00:00", "2027-01-01T08:00:00")]
    public void Daily_runs_at_the_next_time_of_day_strictly_after_now(string now, string first) =>
        Assert.That(TaskSchedule.Parse("daily 08:00", Utc(now), TimeSpan.Zero).First(Utc(now), TimeSpan.Zero), Is.EqualTo(Utc(first)));

    [Test]
    public void Daily_times_are_in_the_boxs_zone()
    {
        // 12:00 UTC is 13:00 in UTC+1: 08:00 there is tomorrow 07:00 UTC.
        Assert.That(TaskSchedule.Parse("daily 08:00", Monday, Berlin).First(Monday, Berlin), Is.EqualTo(Utc("2026-11-24T07:00:00")));
        // 03:00 UTC on the 24th is 22:00 on the 23rd in UTC-5: 23:00 there is still today, 04:00 UTC.
        var west = TimeSpan.FromHours(-5);
        Assert.That(TaskSchedule.Parse("daily 23:00", Monday, west).First(Utc("2026-11-24T03:00:00"), west), Is.EqualTo(Utc("2026-11-24T04:00:00")));
        // 23:30 UTC on the 23rd is already the 24th, 00:30, in UTC+1: 00:15 there comes tomorrow.
        Assert.That(TaskSchedule.Parse("daily 00:15", Monday, Berlin).First(Utc("2026-11-23T23:30:00"), Berlin), Is.EqualTo(Utc("2026-11-24T23:15:00")));
    }

    [TestCase("weekly mon,thu 08:00", "2026-11-23T07:00:00", "2026-11-23T08:00:00")]
    [TestCase("weekly mon,thu 08:00", "2026-11-23T08:00:00", "2026-11-26T08:00:00")]
    [TestCase("weekly mon,thu 08:00", "2026-11-26T09:00:00", "2026-11-30T08:00:00")]
    [TestCase("weekly mon 08:00", "2026-11-23T08:00:01", "2026-11-30T08:00:00")]
    [TestCase("weekly sun 23:59", "2026-11-23T00:00:00", "2026-11-29T23:59:00")]
    [TestCase("weekly fri 00:00", "2026-12-30T12:00:00", "2027-01-01T00:00:00")]
    public void Weekly_runs_on_the_next_named_day_across_weeks_and_years(string schedule, string now, string first) =>
        Assert.That(TaskSchedule.Parse(schedule, Utc(now), TimeSpan.Zero).First(Utc(now), TimeSpan.Zero), Is.EqualTo(Utc(first)));

    [Test]
    public void Weekly_days_are_the_boxs_days()
    {
        // Monday 23:30 UTC is Tuesday 00:30 in UTC+1: "weekly tue 08:00" is that Tuesday, 07:00 UTC.
        var now = Utc("2026-11-23T23:30:00");
        Assert.That(TaskSchedule.Parse("weekly tue 08:00", now, Berlin).First(now, Berlin), Is.EqualTo(Utc("2026-11-24T07:00:00")));
        Assert.That(TaskSchedule.Parse("weekly mon 08:00", now, Berlin).First(now, Berlin), Is.EqualTo(Utc("2026-11-30T07:00:00")));
    }

    [Test]
    public void A_moment_runs_then_and_only_if_it_is_ahead()
    {
        var at = TaskSchedule.Parse("at 2026-11-23 12:30", Monday, TimeSpan.Zero);
        Assert.That(at.First(Monday, TimeSpan.Zero), Is.EqualTo(Utc("2026-11-23T12:30:00")));
        Assert.That(at.First(Utc("2026-11-23T12:30:00"), TimeSpan.Zero), Is.Null);
        Assert.That(at.After(Utc("2026-11-23T12:30:00"), Utc("2026-11-23T12:30:00"), TimeSpan.Zero), Is.Null);
        Assert.That(at.Recurring, Is.False);
    }

    [Test]
    public void Every_counts_from_when_it_was_set()
    {
        var every = TaskSchedule.Parse("every 30 minutes", Monday, TimeSpan.Zero);
        Assert.That(every.First(Monday.AddSeconds(17), TimeSpan.Zero), Is.EqualTo(Utc("2026-11-23T12:30:17")));
        Assert.That(every.Recurring, Is.True);
    }

    // --- runs after a run ---

    [TestCase("2026-11-23T12:30:00", "2026-11-23T12:30:00", "2026-11-23T13:00:00")]
    [TestCase("2026-11-23T12:30:00", "2026-11-23T12:30:05", "2026-11-23T13:00:00")]
    [TestCase("2026-11-23T12:30:00", "2026-11-23T13:00:00", "2026-11-23T13:30:00")]
    [TestCase("2026-11-23T12:30:00", "2026-11-23T14:47:00", "2026-11-23T15:00:00")]
    [TestCase("2026-11-23T12:30:00", "2026-11-26T09:10:00", "2026-11-26T09:30:00")]
    public void Every_skips_runs_missed_and_keeps_its_phase(string previous, string now, string next) =>
        Assert.That(TaskSchedule.Parse("every 30 minutes", Monday, TimeSpan.Zero).After(Utc(previous), Utc(now), TimeSpan.Zero), Is.EqualTo(Utc(next)));

    [TestCase("daily 08:00", "2026-11-23T08:00:00", "2026-11-23T08:00:03", "2026-11-24T08:00:00")]
    [TestCase("daily 08:00", "2026-11-20T08:00:00", "2026-11-23T12:00:00", "2026-11-24T08:00:00")]
    [TestCase("daily 08:00", "2026-11-20T08:00:00", "2026-11-23T07:00:00", "2026-11-23T08:00:00")]
    [TestCase("weekly mon,thu 08:00", "2026-11-05T08:00:00", "2026-11-23T12:00:00", "2026-11-26T08:00:00")]
    [TestCase("weekly sun 10:00", "2026-11-22T10:00:00", "2026-11-22T10:00:00", "2026-11-29T10:00:00")]
    public void Daily_and_weekly_go_to_the_first_slot_after_the_run(string schedule, string previous, string now, string next) =>
        Assert.That(TaskSchedule.Parse(schedule, Monday, TimeSpan.Zero).After(Utc(previous), Utc(now), TimeSpan.Zero), Is.EqualTo(Utc(next)));

    [Test]
    public void A_clock_set_back_never_makes_a_run_repeat()
    {
        var previous = Utc("2026-11-23T08:00:00");
        Assert.That(TaskSchedule.Parse("daily 08:00", Monday, TimeSpan.Zero).After(previous, previous.AddHours(-2), TimeSpan.Zero),
            Is.EqualTo(Utc("2026-11-24T08:00:00")));
        Assert.That(TaskSchedule.Parse("every 10 minutes", Monday, TimeSpan.Zero).After(previous, previous.AddHours(-2), TimeSpan.Zero),
            Is.EqualTo(Utc("2026-11-23T08:10:00")));
    }

    [Test]
    public void Described_in_the_boxs_zone()
    {
        Assert.That(TaskSchedule.Parse("at 2026-11-24T07:00Z", Monday, Berlin).Describe(Berlin), Is.EqualTo("at Tue 2026-11-24 08:00"));
        Assert.That(TaskSchedule.Parse("weekly thu,mon 8:00", Monday, Berlin).Describe(Berlin), Is.EqualTo("weekly mon,thu 08:00"));
        Assert.That(TaskSchedule.ZoneName(TimeSpan.Zero), Is.EqualTo("UTC"));
        Assert.That(TaskSchedule.ZoneName(Berlin), Is.EqualTo("UTC+01:00"));
        Assert.That(TaskSchedule.ZoneName(new TimeSpan(-5, -30, 0)), Is.EqualTo("UTC-05:30"));
    }
}
