using System.CommandLine;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

internal static class MeshDescribeCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "The device's id, as `boxbot mesh devices` shows it." };
        var json = CommonOptions.Json();
        var command = new Command("describe",
            "Show what a device says of itself: its functions with their parameters (JSON Schema), its events, identity and status. " +
            "A device writes this itself: it is a description, not a guarantee.")
        { id, json };
        command.SetAction(async (parse, ct) =>
        {
            var (found, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.Describe, new MeshDeviceId(parse.GetValue(id)!),
                MeshJsonContext.Default.MeshDeviceId, MeshJsonContext.Default.MeshDeviceDescription, null, ct);
            if (found is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(found, MeshJsonContext.Default.MeshDeviceDescription);
                return code;
            }
            var d = found.Device;
            Console.WriteLine($"{d.DeviceId} ({d.DeviceType ?? "type unknown"}): {(d.Online ? "online" : "offline")}, from its {d.Source}");
            if (found.Description is { } description && description.TryGetProperty("capabilities", out var capabilities) && capabilities.ValueKind == JsonValueKind.Object)
            {
                if (capabilities.TryGetProperty("description", out var what) && what.ValueKind == JsonValueKind.String && what.GetString() is { Length: > 0 } text)
                {
                    Console.WriteLine(text);
                }
                foreach (var f in Items(capabilities, "functions"))
                {
                    Console.WriteLine($"  {Text(f, "name")}({Parameters(f)}): {Text(f, "description")}");
                }
                foreach (var e in Items(capabilities, "events"))
                {
                    Console.WriteLine($"  event {Text(e, "name")}: {Text(e, "description")}");
                }
            }
            return code;
        });
        return command;
    }

    private static IEnumerable<JsonElement> Items(JsonElement capabilities, string name) =>
        capabilities.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray() : [];

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    // name: type (required ones without "?"), from the JSON Schema.
    private static string Parameters(JsonElement function)
    {
        if (!function.TryGetProperty("parameters", out var schema) || schema.ValueKind != JsonValueKind.Object
            || !schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return "";
        }
        var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToHashSet() : [];
        return string.Join(", ", properties.EnumerateObject().Select(p =>
            $"{p.Name}{(required.Contains(p.Name) ? "" : "?")}: {(p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("type", out var t) ? t.ToString() : "any")}"));
    }
}
