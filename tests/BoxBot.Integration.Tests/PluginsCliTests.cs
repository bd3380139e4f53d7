using System.Text.Json;

namespace BoxBot.Integration.Tests;

/// <summary>`boxbot plugins validate` and `pack`, the published command, on the reference's demo plugin and broken ones.</summary>
public class PluginsCliTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = TestEnv.TempDir("plugins-cli");
        // The reference's capabilities/demo, as written, with boxbot's capabilities added.
        var demo = Directory.CreateDirectory(Path.Combine(_dir, "demo")).FullName;
        File.WriteAllText(Path.Combine(demo, "manifest.json"), """
            {
              "id": "demo",
              "version": "0.1.0",
              "description": "Example plugin capability — ping and echo RPCs",
              "entry_point": "capability.py",
              "class_name": "DemoCapability",
              "capabilities": {"network": ["api.open-meteo.com"], "secrets": ["WEATHER_KEY"], "timeout_s": 5}
            }
            """);
        File.WriteAllText(Path.Combine(demo, "capability.py"), ReferencePlugins.DemoCode);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private (int ExitCode, string Stdout, string Stderr) Boxbot(params string[] args) =>
        TestEnv.Run(TestEnv.Exe("boxbot"), args, new Dictionary<string, string?> { ["BOXBOT_HOME"] = _dir });

    [Test]
    public void A_packed_plugin_validates_with_the_same_digest_and_says_what_it_declares()
    {
        var bundle = Path.Combine(_dir, "demo.tgz");

        var (code, stdout, stderr) = Boxbot("plugins", "pack", Path.Combine(_dir, "demo"), "--out", bundle);
        Assert.That(code, Is.Zero, stderr);
        var digest = stdout.Split("  ")[0];
        Assert.That(digest, Does.Match("^sha256:[0-9a-f]{64}$"));
        Assert.That(stdout, Does.Contain(bundle));

        (code, stdout, stderr) = Boxbot("plugins", "validate", bundle, "--json");
        Assert.That(code, Is.Zero, stderr);
        var check = JsonDocument.Parse(stdout).RootElement;
        Assert.That(check.GetProperty("digest").GetString(), Is.EqualTo(digest));
        Assert.That((check.GetProperty("id").GetString(), check.GetProperty("class_name").GetString()), Is.EqualTo(("demo", "DemoCapability")));
        Assert.That(check.GetProperty("capabilities").GetProperty("network")[0].GetString(), Is.EqualTo("api.open-meteo.com"));
        Assert.That(check.GetProperty("warnings").GetArrayLength(), Is.Zero);

        (code, stdout, _) = Boxbot("plugins", "validate", Path.Combine(_dir, "demo"));
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("plugin demo 0.1.0").And.Contain("network: api.open-meteo.com").And.Contain("secrets: WEATHER_KEY").And.Contain(digest));

        (code, _, stderr) = Boxbot("plugins", "pack", Path.Combine(_dir, "demo"), "--out", bundle);
        Assert.That((code, stderr), Is.EqualTo((1, $"boxbot: {bundle} exists: an existing file is not overwritten (choose another --out)\n")));
    }

    [Test]
    public void A_plugin_that_would_be_refused_fails_naming_the_field_and_a_missing_path_is_a_usage_error()
    {
        var manifest = Path.Combine(_dir, "demo", "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"WEATHER_KEY\"", "\"weather-key\"", StringComparison.Ordinal));

        var (code, _, stderr) = Boxbot("plugins", "validate", Path.Combine(_dir, "demo"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("manifest.json: capabilities.secrets: \"weather-key\" is not a secret name"));

        (code, _, stderr) = Boxbot("plugins", "validate", Path.Combine(_dir, "nothing-here"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("no such folder or file"));
    }
}
