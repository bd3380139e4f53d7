using System.Text.Json;
using BoxBot.Agent.Tools;

namespace BoxBot.Agent.Tests;

/// <summary>Speakers for the memory, task and skill tests: people on WhatsApp and the console, admins and not.</summary>
internal static class Speakers
{
    public static Speaker Person(string digits, bool admin = false) => new(Speaker.WhatsApp, digits, admin, digits, "Person " + digits[^2..]);

    public static Speaker Console(string user, bool admin = false) => new(Speaker.Console, user, admin, null, user);

    public static Speaker Task(long id) => new(Speaker.Task, id.ToString(System.Globalization.CultureInfo.InvariantCulture), false, null, "task " + id);
}

/// <summary>Runs a tool as the engine would: the model's JSON text in, the result out.</summary>
internal static class ToolCalls
{
    public static ToolResult Run(AgentTool tool, string json, Speaker speaker, TimeProvider? time = null)
    {
        using var document = JsonDocument.Parse(json);
        var context = new ToolContext { Speaker = speaker, Time = time ?? TimeProvider.System };
        return tool.RunAsync(new ToolInput(document.RootElement.Clone()), context, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The message of the <see cref="ToolInputException"/> the call throws.</summary>
    public static string Refusal(AgentTool tool, string json, Speaker speaker, TimeProvider? time = null) =>
        Assert.Throws<ToolInputException>(() => Run(tool, json, speaker, time))!.Message;

    /// <summary>The schema is an object schema that refuses properties it does not name, and names exactly <paramref name="properties"/>.</summary>
    public static void AssertSchema(AgentTool tool, params string[] properties)
    {
        using var schema = JsonDocument.Parse(tool.InputSchema);
        var root = schema.RootElement;
        Assert.That(root.GetProperty("type").GetString(), Is.EqualTo("object"));
        Assert.That(root.GetProperty("additionalProperties").ValueKind, Is.EqualTo(JsonValueKind.False));
        Assert.That(root.GetProperty("properties").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(properties));
        if (root.TryGetProperty("required", out var required))
        {
            Assert.That(required.EnumerateArray().Select(r => r.GetString()), Is.SubsetOf(properties));
        }
        Assert.That(tool.Name, Does.Match("^[a-z_]{1,64}$"));
        Assert.That(tool.Description, Is.Not.Empty);
    }
}
