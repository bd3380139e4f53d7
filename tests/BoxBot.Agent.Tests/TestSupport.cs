using BoxBot.Contracts;

namespace BoxBot.Agent.Tests;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

internal static class Packages
{
    public static ResolvedPackage Wheel(string name, string version, bool requested = true, char hash = 'a') => new()
    {
        Name = name,
        Version = version,
        Sha256 = new string(hash, 64),
        File = $"{name}-{version}-py3-none-any.whl",
        Requested = requested,
    };
}

/// <summary>A fresh folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("boxbot-agent-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
