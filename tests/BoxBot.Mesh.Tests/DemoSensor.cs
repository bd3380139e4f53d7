using System.Text;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Wire;

namespace BoxBot.Mesh.Tests;

/// <summary>The reference samples' example device (demo-01, a DemoSensor), declared with our types.</summary>
internal static class DemoSensor
{
    public static readonly DateTimeOffset Clock = DateTimeOffset.FromUnixTimeMilliseconds(1768478400123);

    public static DeviceSpec Spec(string id = "demo-01") => new(id, "demo_sensor", "Demo temperature sensor.",
    [
        new FunctionSpec("echo", "Echo a message back.",
            """{"type": "object", "properties": {"message": {"type": "string", "description": "Text to echo"}}, "required": ["message"]}"""),
        new FunctionSpec("fail", "Always fails.", """{"type": "object", "properties": {}, "required": []}"""),
        new FunctionSpec("sample", "Schema sample covering the basic types.",
            """{"type": "object", "properties": {"name": {"type": "string"}, "items": {"type": "array"}, "options": {"type": "object"}, "count": {"type": "integer", "default": 3}, "scale": {"type": "number", "default": null}, "enabled": {"type": "boolean", "default": true}}, "required": ["name", "items", "options"]}""",
            """{"direction": "read"}"""),
    ],
    [
        new EventSpec("reading", "A new reading is available.",
            """{"type": "object", "properties": {"value": {"type": "number", "description": "Measured temperature"}, "unit": {"type": "string", "description": "Unit of measure", "default": "C"}}, "required": ["value"]}"""),
    ]);

    /// <summary>Handlers: echo answers {"message": …}, fail fails, sample answers its params back.</summary>
    public static Dictionary<string, DeviceFunctionHandler> Handlers(List<DeviceCall>? seen = null) => new()
    {
        ["echo"] = (call, _) =>
        {
            seen?.Add(call with { Params = call.Params.Clone() });
            return ValueTask.FromResult(Encoding.UTF8.GetBytes($"{{\"message\": {call.Params.GetProperty("message").GetRawText()}}}"));
        },
        ["fail"] = (_, _) => throw new DeviceFunctionException("sensor offline"),
        ["sample"] = (call, _) => ValueTask.FromResult(Encoding.UTF8.GetBytes(call.Params.GetRawText())),
    };
}
