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

/// <summary>A user registry for tests, with a fresh random key and the notices it sends collected.</summary>
internal sealed class TestRegistry
{
    private int _messages;

    public TestRegistry(BoxBot.Agent.Storage.AgentDatabase database, TimeProvider time, byte[]? key = null)
    {
        Key = key ?? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        Registry = new BoxBot.Agent.Identity.UserRegistry(database, Key, time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            (to, text) => { lock (Notices) { Notices.Add((to, text)); } });
    }

    public byte[] Key { get; }

    public BoxBot.Agent.Identity.UserRegistry Registry { get; }

    /// <summary>Every WhatsApp text the registry sent: (to, text).</summary>
    public List<(string To, string Text)> Notices { get; } = [];

    /// <summary>A text message as the webhook hands it over.</summary>
    public WhatsAppEvent Text(string from, string text, string? name = null)
    {
        var id = $"wamid.test{Interlocked.Increment(ref _messages)}";
        return new WhatsAppEvent { Key = id, Kind = WhatsAppEvent.MessageKind, Id = id, From = from, Name = name, Type = "text", Text = text };
    }

    public BoxBot.Agent.Identity.Admission Send(string from, string text, string? name = null) => Registry.Admit(Text(from, text, name));

    /// <summary>Registers <paramref name="number"/> the real way: the first one with a bootstrap code (primary admin), later ones with an admin's code.</summary>
    public void Register(string number, string? name = null, bool admin = false)
    {
        var code = Registry.IsBootstrapOpen ? Registry.IssueBootstrapCode("console:setup") : Registry.IssueCode("console:setup-" + number);
        var admission = Send(number, code.Code, name);
        if (admission != BoxBot.Agent.Identity.Admission.Registered)
        {
            throw new InvalidOperationException($"registering {number} with {code.Code}: {admission}");
        }
        if (admin && Registry.Find(number) is { Role: UserInfo.UserRole })
        {
            Registry.Promote(number, "console:setup");
        }
    }
}

/// <summary>A fresh folder in memory (/dev/shm) where there is one, for tests that commit tens of thousands of times.</summary>
internal sealed class MemoryFolder : IDisposable
{
    public string Path { get; } = Directory.Exists("/dev/shm")
        ? Directory.CreateDirectory(System.IO.Path.Combine("/dev/shm", "boxbot-agent-tests-" + Guid.NewGuid().ToString("N"))).FullName
        : Directory.CreateTempSubdirectory("boxbot-agent-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
