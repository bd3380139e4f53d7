using System.Text.Json;

namespace BoxBot.Agent.Tools;

/// <summary>
/// The authenticated person a turn is for, decided by code from the channel (the webhook's sender number checked
/// against the registry, the console's SO_PEERCRED uid), never by the model or by text it read.
/// </summary>
/// <param name="Channel">"whatsapp", "console", "task" or "mesh" (a device's notice).</param>
/// <param name="Id">Digits for WhatsApp, the Unix user for the console, the task id for tasks.</param>
/// <param name="IsAdmin">A registered admin (WhatsApp) or a member of the admin group (console).</param>
/// <param name="Number">The person's registered WhatsApp number, when they have one.</param>
public sealed record Speaker(string Channel, string Id, bool IsAdmin, string? Number, string DisplayName)
{
    public const string WhatsApp = "whatsapp";
    public const string Console = "console";
    public const string Task = "task";
    public const string Mesh = "mesh";

    /// <summary>The conversation key: <c>whatsapp:&lt;digits&gt;</c>, <c>console:&lt;user&gt;</c>, <c>task:&lt;id&gt;</c>.</summary>
    public string ConversationKey => $"{Channel}:{Id}";

    /// <summary>For a task's conversation: the conversation key of the person it acts for (the task's owner).</summary>
    public string? OnBehalfOf { get; init; }

    /// <summary>The person whose things (memory, tasks) this turn may touch: the speaker, or the task's owner.</summary>
    public string Person => OnBehalfOf ?? ConversationKey;

    /// <summary>
    /// Whose rules in <c>[mesh.policy]</c> apply to this turn's mesh calls: <c>device</c> for a device's notice (untrusted
    /// text), <c>admin</c> or <c>user</c> for a person (a task: its owner's role).
    /// </summary>
    public string MeshRole => Channel == Mesh ? "device" : IsAdmin ? "admin" : "user";
}

/// <summary>What a tool knows about the call it serves.</summary>
public sealed class ToolContext
{
    public required Speaker Speaker { get; init; }

    public required TimeProvider Time { get; init; }
}

/// <summary>What a tool gives back to the model. <see cref="IsError"/>: the call failed or was refused; the text says why.</summary>
public sealed record ToolResult(string Content, bool IsError = false)
{
    public static ToolResult Error(string message) => new(message, IsError: true);
}

/// <summary>
/// A tool the model may call: a name, a description for the model, the JSON Schema of its input, and code that checks
/// the input itself (the schema is advice to the model, not a guarantee) and every privilege against the speaker.
/// </summary>
public abstract class AgentTool
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>The JSON Schema of the input object, as JSON text.</summary>
    public abstract string InputSchema { get; }

    /// <summary>Runs the call. Bad input: throw <see cref="ToolInputException"/> (the engine answers the model with its message).</summary>
    public abstract Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken);

    /// <summary>The arguments as the action log records them; tools that take secret values override this to redact them.</summary>
    public virtual string Redact(JsonElement input) => input.GetRawText();
}

/// <summary>The model named a tool's input wrongly; the message says what and where.</summary>
public sealed class ToolInputException(string message) : Exception(message);

/// <summary>Checked access to a tool call's arguments: the model's JSON, untrusted.</summary>
public sealed class ToolInput
{
    private readonly JsonElement _root;

    public ToolInput(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ToolInputException("the input must be a JSON object");
        }
        _root = root;
    }

    public JsonElement Root => _root;

    /// <summary>Refuses any property not in <paramref name="allowed"/>.</summary>
    public ToolInput Only(params string[] allowed)
    {
        foreach (var property in _root.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw new ToolInputException($"unknown property \"{property.Name}\" (known: {string.Join(", ", allowed)})");
            }
        }
        return this;
    }

    public string RequiredString(string name, int maxLength) =>
        OptionalString(name, maxLength) is { Length: > 0 } value ? value : throw new ToolInputException($"\"{name}\" is required (a non-empty string)");

    public string? OptionalString(string name, int maxLength)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ToolInputException($"\"{name}\" must be a string");
        }
        var text = value.GetString()!;
        return text.Length <= maxLength ? text : throw new ToolInputException($"\"{name}\" is {text.Length} characters; at most {maxLength}");
    }

    public long? OptionalInteger(string name, long min, long max)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw new ToolInputException($"\"{name}\" must be an integer");
        }
        return number >= min && number <= max ? number : throw new ToolInputException($"\"{name}\" must be between {min} and {max}, got {number}");
    }

    public bool? OptionalBool(string name)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ToolInputException($"\"{name}\" must be true or false"),
        };
    }

    public IReadOnlyList<string> StringList(string name, int maxItems, int maxLength)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > maxItems)
        {
            throw new ToolInputException($"\"{name}\" must be a list of at most {maxItems} strings");
        }
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString()!.Length > maxLength)
            {
                throw new ToolInputException($"\"{name}\" must hold strings of at most {maxLength} characters");
            }
            list.Add(item.GetString()!);
        }
        return list;
    }

    /// <summary>One of <paramref name="choices"/>, or null when absent.</summary>
    public string? OptionalChoice(string name, params string[] choices)
    {
        var value = OptionalString(name, 64);
        return value is null || Array.IndexOf(choices, value) >= 0
            ? value
            : throw new ToolInputException($"\"{name}\" must be one of {string.Join(", ", choices)}, got \"{value}\"");
    }
}
