using BoxBot.Plugins;

namespace BoxBot.Plugins.Tests;

/// <summary>The reference's manifests read as they are; boxbot's capabilities read strictly; every mistake named by its field.</summary>
public sealed class PluginManifestTests
{
    // The reference's examples/hello-world/manifest.json and capabilities/demo/manifest.json, as they are written.
    private const string HelloWorld = """
        {
          "id": "hello-world",
          "version": "0.1.0",
          "description": "Minimal hello-world plugin for testing load and invoke",
          "entry_point": "capability.py",
          "class_name": "HelloWorldCapability"
        }
        """;

    private const string Demo = """
        {
          "id": "demo",
          "version": "0.1.0",
          "description": "Example plugin capability — ping and echo RPCs",
          "entry_point": "capability.py",
          "class_name": "DemoCapability"
        }
        """;

    [Test]
    public void The_references_example_manifests_read_unchanged_with_no_capabilities()
    {
        var hello = PluginManifest.Parse(HelloWorld, "manifest.json");
        var demo = PluginManifest.Parse(Demo, "manifest.json");

        Assert.That(hello, Is.EqualTo(new PluginManifest("hello-world", "0.1.0", "Minimal hello-world plugin for testing load and invoke", "capability.py",
            "HelloWorldCapability", [], PluginCapabilities.None)));
        Assert.That((demo.Id, demo.ClassName, demo.Capabilities), Is.EqualTo(("demo", "DemoCapability", PluginCapabilities.None)));
        Assert.That(PluginCapabilities.None.Hosts, Is.Empty, "omitted: no network");
    }

    [Test]
    public void Capabilities_and_dependencies_are_read_as_declared()
    {
        var manifest = PluginManifest.Parse("""
            {"id": "weather", "version": "2.1", "class_name": "Weather", "type": "python",
             "dependencies": {"python": ["requests==2.31.0", "pyyaml>=6,<7"]},
             "capabilities": {"network": ["api.open-meteo.com", "api.open-meteo.com"], "secrets": ["WEATHER_KEY"],
                              "devices": ["lamp.switch", "thermostat.*"], "memory_mib": 64, "timeout_s": 10}}
            """, "manifest.json");

        Assert.That(manifest.EntryPoint, Is.EqualTo("capability.py"), "the reference's default");
        Assert.That(manifest.PythonDependencies, Is.EqualTo(new[] { "requests==2.31.0", "pyyaml>=6,<7" }));
        Assert.That(manifest.Capabilities, Is.EqualTo(new PluginCapabilities(["api.open-meteo.com"], ["WEATHER_KEY"], ["lamp.switch", "thermostat.*"], 64, 10)));
        Assert.That(PluginManifest.Parse("""{"id": "x", "class_name": "X", "capabilities": {"network": "none"}}""", "m").Capabilities, Is.EqualTo(PluginCapabilities.None));
    }

    [TestCase("[]", "manifest.json: must be a JSON object")]
    [TestCase("{\"id\": ", "manifest.json: not JSON")]
    [TestCase("""{"class_name": "X"}""", "manifest.json: id is missing")]
    [TestCase("""{"id": "Hello", "class_name": "X"}""", "id \"Hello\" must be 1-64 of a-z")]
    [TestCase("""{"id": "../etc", "class_name": "X"}""", "id \"../etc\" must be")]
    [TestCase("""{"id": "-x", "class_name": "X"}""", "id \"-x\" must be")]
    [TestCase("""{"id": "x"}""", "class_name is missing")]
    [TestCase("""{"id": "x", "class_name": "os.system"}""", "class_name \"os.system\" must be a Python class name")]
    [TestCase("""{"id": "x", "class_name": "X", "entry_point": "../../etc/x.py"}""", "entry_point \"../../etc/x.py\" must be a .py file inside")]
    [TestCase("""{"id": "x", "class_name": "X", "entry_point": "/usr/lib/x.py"}""", "entry_point \"/usr/lib/x.py\"")]
    [TestCase("""{"id": "x", "class_name": "X", "entry_point": "run.sh"}""", "entry_point \"run.sh\"")]
    [TestCase("""{"id": "x", "class_name": "X", "version": "1 0"}""", "version \"1 0\"")]
    [TestCase("""{"id": "x", "class_name": "X", "dependencies": {"python": ["requests; os_name=='posix'"]}}""", "dependencies.python: \"requests; os_name=='posix'\" is not a requirement")]
    [TestCase("""{"id": "x", "class_name": "X", "dependencies": {"python": ["--index-url=http://evil"]}}""", "dependencies.python: \"--index-url=http://evil\"")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"network": "any"}}""", "capabilities.network must be \"none\" or a list of host names")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"network": ["*.example.com"]}}""", "capabilities.network: \"*.example.com\" is not a host name")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"network": ["10.0.0.1"]}}""", "capabilities.network: \"10.0.0.1\"")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"network": ["api.example.com:8443"]}}""", "capabilities.network: \"api.example.com:8443\"")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"secrets": ["llm-api-key"]}}""", "capabilities.secrets: \"llm-api-key\" is not a secret name")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"devices": ["*.*"]}}""", "capabilities.devices: \"*.*\" is not DEVICE.FUNCTION")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"memory_mib": 4096}}""", "capabilities.memory_mib must be a whole number from 16 to 1024")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"timeout_s": "30"}}""", "capabilities.timeout_s must be a whole number from 1 to 300")]
    [TestCase("""{"id": "x", "class_name": "X", "capabilities": {"filesystem": "all"}}""", "capabilities.filesystem is not a capability boxbot knows")]
    public void A_manifest_mistake_is_refused_naming_the_field(string json, string expected)
    {
        var e = Assert.Throws<PluginManifestException>(() => PluginManifest.Parse(json, "manifest.json"))!;

        Assert.That(e.Message, Does.Contain(expected));
    }
}
