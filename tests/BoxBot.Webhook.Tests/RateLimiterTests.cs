namespace BoxBot.Webhook.Tests;

public class RateLimiterTests
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    [Test]
    public void A_sender_gets_its_minute_allowance_then_nothing_until_it_refills()
    {
        var limiter = new RateLimiter(senderPerMinute: 3, globalPerMinute: 100, _clock);

        Assert.That(Enumerable.Range(0, 5).Select(_ => limiter.TryAcquire("491")), Is.EqualTo(new[] { true, true, true, false, false }));

        _clock.Advance(TimeSpan.FromSeconds(20)); // a third of a minute: one token back
        Assert.That(limiter.TryAcquire("491"), Is.True);
        Assert.That(limiter.TryAcquire("491"), Is.False);
        Assert.That(limiter.TryAcquire("492"), Is.True, "another sender has its own allowance");
    }

    [Test]
    public void Many_senders_together_stop_at_the_global_limit()
    {
        var limiter = new RateLimiter(senderPerMinute: 30, globalPerMinute: 10, _clock);

        var allowed = Enumerable.Range(0, 1000).Count(i => limiter.TryAcquire("49" + i));

        Assert.That(allowed, Is.EqualTo(10));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.That(Enumerable.Range(0, 1000).Count(i => limiter.TryAcquire("50" + i)), Is.EqualTo(10));
    }

    [Test]
    public void A_refused_message_costs_no_token()
    {
        var limiter = new RateLimiter(senderPerMinute: 2, globalPerMinute: 3, _clock);
        limiter.TryAcquire("1");
        limiter.TryAcquire("1");
        Assert.That(limiter.TryAcquire("1"), Is.False);

        Assert.That(limiter.TryAcquire("2"), Is.True, "the sender's refusal took nothing from the global bucket");
    }

    [Test]
    public void Senders_whose_bucket_is_full_again_are_forgotten()
    {
        var limiter = new RateLimiter(senderPerMinute: 5, globalPerMinute: 1_000_000, _clock);
        for (var i = 0; i < 500; i++)
        {
            limiter.TryAcquire("49" + i);
        }
        Assert.That(limiter.TrackedSenders, Is.EqualTo(500));

        _clock.Advance(TimeSpan.FromMinutes(2));
        limiter.TryAcquire("new");

        Assert.That(limiter.TrackedSenders, Is.EqualTo(1));
    }

    [Test]
    public void The_table_of_senders_stays_bounded_under_a_flood_of_new_numbers()
    {
        var limiter = new RateLimiter(senderPerMinute: 1, globalPerMinute: 10_000_000, _clock);
        for (var i = 0; i < RateLimiter.MaxTrackedSenders + 5000; i++)
        {
            limiter.TryAcquire("n" + i);
        }

        Assert.That(limiter.TrackedSenders, Is.EqualTo(RateLimiter.MaxTrackedSenders));
    }
}
