namespace BoxBot.Webhook.Tests;

/// <summary>A clock the test moves by hand (wall time and timestamps together).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Now.UtcTicks;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>A fresh folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("boxbot-webhook-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
