using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent.Tests;

public class SecretStoreTests
{
    private string _dir = "";
    private string _path = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("boxbot-secrets-").FullName;
        _path = Path.Combine(_dir, "secrets.json");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Stored_secrets_survive_a_restart_in_a_file_only_the_owner_can_read()
    {
        new SecretStore(_path).Set("WEATHER_KEY", "s3cr3t-value");

        var reopened = new SecretStore(_path);

        Assert.That(reopened.Names(), Is.EqualTo(new[] { "WEATHER_KEY" }));
        Assert.That(reopened.Resolve(["WEATHER_KEY"])["WEATHER_KEY"], Is.EqualTo("s3cr3t-value"));
        Assert.That(File.GetUnixFileMode(_path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary files are left behind");
    }

    [TestCase("lower")]
    [TestCase("1ABC")]
    [TestCase("A-B")]
    [TestCase("")]
    [TestCase("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM")]
    [TestCase("../ETC")]
    public void Names_outside_the_rule_are_refused(string name)
    {
        var store = new SecretStore(_path);

        var e = Assert.Throws<RpcException>(() => store.Set(name, "x"))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.InvalidParams));
        Assert.That(File.Exists(_path), Is.False);
    }

    [Test]
    public void Values_over_8_KiB_and_empty_values_are_refused()
    {
        var store = new SecretStore(_path);

        Assert.Throws<RpcException>(() => store.Set("BIG", new string('x', 8 * 1024 + 1)));
        Assert.Throws<RpcException>(() => store.Set("EMPTY", ""));
        store.Set("EXACT", new string('x', 8 * 1024));
        Assert.That(store.Names(), Is.EqualTo(new[] { "EXACT" }));
    }

    [Test]
    public void The_store_holds_at_most_64_secrets_but_an_existing_one_can_still_change()
    {
        var store = new SecretStore(_path);
        for (var i = 0; i < SecretStore.MaxSecrets; i++)
        {
            store.Set($"S{i}", "v");
        }

        Assert.Throws<RpcException>(() => store.Set("ONE_MORE", "v"));
        store.Set("S0", "changed");
        Assert.That(store.Resolve(["S0"])["S0"], Is.EqualTo("changed"));
    }

    [Test]
    public void Resolving_unknown_names_fails_naming_them_and_never_returns_other_secrets()
    {
        var store = new SecretStore(_path);
        store.Set("A", "1");
        store.Set("B", "2");

        Assert.That(store.Resolve(["A"]), Is.EquivalentTo(new Dictionary<string, string> { ["A"] = "1" }));
        var e = Assert.Throws<RpcException>(() => store.Resolve(["A", "NOPE", "ALSO_NOPE"]))!;
        Assert.That(e.Message, Does.Contain("NOPE").And.Contain("ALSO_NOPE"));
    }

    [Test]
    public void Deleting_removes_the_value_from_the_file()
    {
        var store = new SecretStore(_path);
        store.Set("GONE", "value-to-forget");

        Assert.That(store.Delete("GONE"), Is.True);
        Assert.That(store.Delete("GONE"), Is.False);
        Assert.That(File.ReadAllText(_path), Does.Not.Contain("value-to-forget"));
    }

    [Test]
    public void A_store_file_readable_by_others_is_refused_with_the_fix()
    {
        new SecretStore(_path).Set("A", "1");
        File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var e = Assert.Throws<IOException>(() => new SecretStore(_path))!;

        Assert.That(e.Message, Does.Contain("chmod 600"));
    }

    [Test]
    public void A_corrupt_store_file_is_reported_without_echoing_its_content()
    {
        File.WriteAllText(_path, "{ \"secrets\": { \"A\": \"leaked-value\" ");
        File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = Assert.Throws<IOException>(() => new SecretStore(_path))!;

        Assert.That(e.Message, Does.Not.Contain("leaked-value"));
    }
}
