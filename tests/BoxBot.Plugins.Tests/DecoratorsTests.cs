using System.Diagnostics;
using System.Text.Json;

namespace BoxBot.Plugins.Tests;

/// <summary>
/// The sandbox runtime's <c>device_connect_edge.drivers.decorators</c> (lib/BoxBot.Sandbox/python), run by Debian's
/// python3: a plugin written for the reference imports it unchanged, and the schemas it yields are the reference's own,
/// compared with the registration the reference produced for the same class (tests/BoxBot.Mesh.Tests/Samples/reference).
/// </summary>
public sealed class DecoratorsTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    // The reference's DemoSensor (Samples/reference/README.md) and the hello-world example, as they were written.
    private const string Plugins = """
        import asyncio, json, sys
        from typing import Optional
        from device_connect_edge.drivers.decorators import emit, rpc, build_function_schema, build_event_schema

        class DemoSensor:
            @rpc()
            async def echo(self, message: str) -> dict:
                '''Echo a message back.

                Args:
                    message: Text to echo
                '''
                return {"message": message}

            @rpc(labels={"direction": "read"})
            async def sample(self, name: str, items: list, options: dict, count: int = 3,
                             scale: Optional[float] = None, enabled: bool = True) -> dict:
                '''Schema sample covering the basic types.'''
                return {"ok": True}

            @emit()
            async def reading(self, value: float, unit: str = "C"):
                '''A new reading is available.

                Args:
                    value: Measured temperature
                    unit: Unit of measure
                '''

        class HelloWorldCapability:
            def __init__(self, device=None) -> None:
                self.device = device

            @rpc()
            async def hello_world(self, name: str = "world") -> dict:
                '''Return a greeting.

                Args:
                    name: Name to greet (default: world).
                '''
                return {"message": f"Hello, {name}!"}

        published = []
        class Emitting(DemoSensor):
            async def _emit_event_internal(self, name, payload):
                published.append([name, payload])

        sensor = Emitting()
        asyncio.run(sensor.reading(21.5))
        print(json.dumps({
            "functions": {f.__name__: {"description": f._description, "parameters": build_function_schema(f), "labels": f._labels,
                                       "marked": f._is_device_function}
                          for f in (DemoSensor.echo, DemoSensor.sample)},
            "reading": build_event_schema(DemoSensor.reading),
            "event_marked": DemoSensor.reading._is_device_event,
            "hello": asyncio.run(HelloWorldCapability().hello_world(name="plugin")),
            "hello_default": asyncio.run(HelloWorldCapability().hello_world()),
            "published": published,
        }))
        """;

    [Test]
    public void Reference_plugins_import_the_runtimes_decorators_and_get_the_references_schemas()
    {
        var info = new ProcessStartInfo("/usr/bin/python3", ["-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); exec(sys.argv[2])",
            Path.Combine(RepoRoot, "lib", "BoxBot.Sandbox", "python"), Plugins])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(info)!;
        var stdout = python.StandardOutput.ReadToEnd();
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.That(python.ExitCode, Is.Zero, stderr);
        var ours = JsonDocument.Parse(stdout).RootElement;
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot, "tests", "BoxBot.Mesh.Tests", "Samples", "reference", "register-device.request.json")));
        var capabilities = sample.RootElement.GetProperty("params").GetProperty("capabilities");

        foreach (var name in new[] { "echo", "sample" })
        {
            var reference = capabilities.GetProperty("functions").EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);
            var function = ours.GetProperty("functions").GetProperty(name);
            Assert.That(function.GetProperty("parameters").GetRawText(), Is.EqualTo(reference.GetProperty("parameters").GetRawText()), name);
            Assert.That(function.GetProperty("description").GetString(), Is.EqualTo(reference.GetProperty("description").GetString()), name);
            Assert.That(function.GetProperty("labels").GetRawText(), Is.EqualTo(reference.GetProperty("labels").GetRawText()), name);
            Assert.That(function.GetProperty("marked").GetBoolean(), Is.True);
        }
        var reading = capabilities.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "reading");
        Assert.That(ours.GetProperty("reading").GetRawText(), Is.EqualTo(reading.GetProperty("payload_schema").GetRawText()));
        Assert.That(ours.GetProperty("hello").GetProperty("message").GetString(), Is.EqualTo("Hello, plugin!"));
        Assert.That(ours.GetProperty("hello_default").GetProperty("message").GetString(), Is.EqualTo("Hello, world!"));
        var published = ours.GetProperty("published")[0];
        Assert.That(published[0].GetString(), Is.EqualTo("reading"));
        Assert.That(published[1].GetProperty("value").GetDouble(), Is.EqualTo(21.5));
        Assert.That(published[1].GetProperty("event_id").GetString(), Does.Match("^[0-9a-f]{8}$"));
        Assert.That(published[1].GetProperty("ts").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"));
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "boxbot.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("boxbot.sln not found above " + AppContext.BaseDirectory);
    }
}
