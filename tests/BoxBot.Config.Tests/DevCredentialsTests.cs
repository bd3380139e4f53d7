namespace BoxBot.Config.Tests;

public class DevCredentialsTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void The_generated_credentials_are_created_private_in_a_private_folder()
    {
        var folder = _dir.File("credentials");

        var created = DevCredentials.EnsureGenerated(folder);

        Assert.That(created, Is.EquivalentTo(new[] { "whatsapp-app-secret", "whatsapp-verify-token" }));
        Assert.That(File.GetUnixFileMode(folder), Is.EqualTo(Modes.Octal("700")));
        foreach (var name in created)
        {
            var path = Path.Combine(folder, name);
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Modes.Private), name);
            Assert.That(File.ReadAllText(path), Does.Match("^[0-9a-f]{64}$"), name);
        }

        // They pass the store's checks, and two secrets are not the same.
        var store = new CredentialStore(folder, null);
        Assert.That(store.Get("whatsapp-app-secret"), Is.Not.EqualTo(store.Get("whatsapp-verify-token")));
    }

    [Test]
    public void Credentials_that_cannot_be_invented_are_not_created()
    {
        var folder = _dir.File("credentials");

        DevCredentials.EnsureGenerated(folder);

        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { "whatsapp-app-secret", "whatsapp-verify-token" }));
    }

    [Test]
    public void Existing_credentials_are_never_overwritten_and_not_reported()
    {
        var folder = _dir.File("credentials");
        Directory.CreateDirectory(folder);
        var mine = _dir.Write(Path.Combine("credentials", "whatsapp-verify-token"), "my-token");

        var created = DevCredentials.EnsureGenerated(folder);
        var again = DevCredentials.EnsureGenerated(folder);

        Assert.That(created, Is.EqualTo(new[] { "whatsapp-app-secret" }));
        Assert.That(again, Is.Empty);
        Assert.That(File.ReadAllText(mine), Is.EqualTo("my-token"));
    }

    [Test]
    public void A_second_run_keeps_the_first_values()
    {
        var folder = _dir.File("credentials");
        DevCredentials.EnsureGenerated(folder);
        var first = File.ReadAllText(Path.Combine(folder, "whatsapp-app-secret"));

        DevCredentials.EnsureGenerated(folder);

        Assert.That(File.ReadAllText(Path.Combine(folder, "whatsapp-app-secret")), Is.EqualTo(first));
    }
}
