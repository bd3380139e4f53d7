using System.Text.Json;
using BoxBot.Plugins;

namespace BoxBot.Plugins.Tests;

/// <summary>
/// Installing unpacked bundles into the store: whole or not at all, recorded across a restart, replaced only when asked,
/// at most max_plugins, secrets granted only when declared, removals, the audit log, and leftovers of a cut-short
/// install cleared when the store opens.
/// </summary>
public sealed class PluginStoreTests
{
    private string _dir = "";
    private string Root => Path.Combine(_dir, "plugins");

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("boxbot-store-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private PluginStore Open(int max = 32) => new(Root, max, TimeProvider.System);

    /// <summary>A plugin folder packed and unpacked into the store's staging, as an install does.</summary>
    private (ExtractedPlugin Extracted, string Digest) Stage(PluginStore store, string id, string version = "1.0", string capabilities = "{}")
    {
        var folder = Path.Combine(_dir, "src-" + id + "-" + version);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "manifest.json"),
            $$"""{"id": "{{id}}", "version": "{{version}}", "class_name": "Plugin", "capabilities": {{capabilities}}}""");
        File.WriteAllText(Path.Combine(folder, "capability.py"), $"VERSION = '{version}'\n");
        var bundle = PluginBundle.Pack(folder);
        return (PluginArchive.Extract(bundle, ArchiveFormat.TarGz, store.StagingDir), PluginBundle.Digest(bundle));
    }

    [Test]
    public void An_installed_plugin_is_in_place_recorded_and_still_there_after_a_restart()
    {
        var store = Open();
        var (extracted, digest) = Stage(store, "weather", capabilities: """{"network": ["api.open-meteo.com"], "secrets": ["WEATHER_KEY", "OTHER_KEY"]}""");

        var installed = store.Install(extracted, digest, "/home/ana/weather", "uid 1000", ["WEATHER_KEY"], replace: false);

        Assert.That(File.ReadAllText(Path.Combine(store.PathOf("weather"), "capability.py")), Is.EqualTo("VERSION = '1.0'\n"));
        Assert.That(File.GetUnixFileMode(store.PathOf("weather")), Is.EqualTo((UnixFileMode)0x1ED), "0755: the confined plugin reads it");
        Assert.That(Directory.GetFileSystemEntries(store.StagingDir), Is.Empty, "nothing left in staging");
        Assert.That(File.GetUnixFileMode(store.StateFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var reopened = Open().Get("weather")!;
        Assert.That((reopened.Version, reopened.Digest, reopened.Source, reopened.InstalledBy), Is.EqualTo(("1.0", digest, "/home/ana/weather", "uid 1000")));
        Assert.That(reopened.GrantedSecrets, Is.EqualTo(new[] { "WEATHER_KEY" }));
        Assert.That(reopened.Capabilities, Is.EqualTo(installed.Capabilities));
        Assert.That(reopened.Capabilities.Hosts, Is.EqualTo(new[] { "api.open-meteo.com" }));
    }

    [Test]
    public void The_same_id_is_replaced_only_when_asked_and_the_audit_log_keeps_every_step()
    {
        var store = Open();
        var (first, firstDigest) = Stage(store, "demo", "1.0");
        store.Install(first, firstDigest, "a", "uid 0", [], replace: false);
        var (second, secondDigest) = Stage(store, "demo", "2.0");

        var refusal = Assert.Throws<PluginStoreException>(() => store.Install(second, secondDigest, "b", "uid 0", [], replace: false))!;
        Assert.That(refusal.Message, Does.Contain("demo is installed (version 1.0"));
        Assert.That(Directory.GetFileSystemEntries(store.StagingDir), Is.Empty, "a refused install leaves no staging behind");
        Assert.That(File.ReadAllText(Path.Combine(store.PathOf("demo"), "capability.py")), Does.Contain("1.0"), "the installed one is untouched");

        (second, secondDigest) = Stage(store, "demo", "2.0");
        store.Install(second, secondDigest, "b", "uid 0", [], replace: true);
        Assert.That(File.ReadAllText(Path.Combine(store.PathOf("demo"), "capability.py")), Does.Contain("2.0"));
        store.Remove("demo", "uid 1000");

        Assert.That(store.List(), Is.Empty);
        Assert.That(Directory.Exists(store.PathOf("demo")), Is.False);
        var audit = File.ReadAllLines(store.AuditLog).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(audit.Select(a => $"{a.GetProperty("action").GetString()} {a.GetProperty("version").GetString()} {a.GetProperty("by").GetString()}"),
            Is.EqualTo(new[] { "install 1.0 uid 0", "replace 2.0 uid 0", "remove 2.0 uid 1000" }));
        Assert.That(audit[1].GetProperty("digest").GetString(), Is.EqualTo(secondDigest));
        Assert.That(() => store.Remove("demo", "uid 0"), Throws.InstanceOf<PluginStoreException>().With.Message.Contains("no plugin demo is installed"));
    }

    [Test]
    public void At_most_max_plugins_and_only_declared_secrets_may_be_granted()
    {
        var store = Open(max: 2);
        foreach (var id in new[] { "a", "b" })
        {
            var (e, d) = Stage(store, id);
            store.Install(e, d, "x", "uid 0", [], replace: false);
        }
        var (third, digest) = Stage(store, "c");
        Assert.That(() => store.Install(third, digest, "x", "uid 0", [], replace: false),
            Throws.InstanceOf<PluginStoreException>().With.Message.Contains("2 plugins are installed, the most this box takes"));

        var (secretive, d2) = Stage(store, "b", "2", """{"secrets": ["B_KEY"]}""");
        Assert.That(() => store.Install(secretive, d2, "x", "uid 0", ["LLM_API_KEY"], replace: true),
            Throws.InstanceOf<PluginStoreException>().With.Message.Contains("does not declare the secret LLM_API_KEY"));
        Assert.That(store.List().Select(p => p.Id), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(Directory.GetFileSystemEntries(store.StagingDir), Is.Empty);
    }

    [Test]
    public void Leftovers_of_an_install_cut_short_are_cleared_when_the_store_opens()
    {
        var store = Open();
        var (e, d) = Stage(store, "kept");
        store.Install(e, d, "x", "uid 0", [], replace: false);
        Stage(store, "half");
        Directory.CreateDirectory(Path.Combine(store.InstalledDir, ".new-0123456789ab"));
        Directory.CreateDirectory(Path.Combine(store.InstalledDir, "unrecorded"));

        var reopened = Open();

        Assert.That(Directory.GetDirectories(reopened.InstalledDir).Select(Path.GetFileName), Is.EqualTo(new[] { "kept" }));
        Assert.That(Directory.GetFileSystemEntries(reopened.StagingDir), Is.Empty);
        Assert.That(reopened.List().Single().Id, Is.EqualTo("kept"));
    }
}
