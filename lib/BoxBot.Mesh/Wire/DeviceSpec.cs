using System.Text.Json;

namespace BoxBot.Mesh.Wire;

/// <summary>A function a device offers: its name, what it does, and its parameters as a JSON Schema object.</summary>
/// <param name="ParametersSchema">The JSON Schema of its params object, as JSON text.</param>
/// <param name="LabelsJson">Its labels object as JSON text, or null.</param>
public sealed record FunctionSpec(string Name, string Description, string ParametersSchema, string? LabelsJson = null);

/// <summary>An event a device publishes, with the schema of its payload (JSON text) or null.</summary>
public sealed record EventSpec(string Name, string Description, string? PayloadSchema);

/// <summary>What a device says about itself when it registers or announces its presence.</summary>
/// <param name="DeviceId">Its id (a subject token).</param>
/// <param name="DeviceType">Its <c>identity.device_type</c>.</param>
/// <param name="Description">What it is (<c>capabilities.description</c>).</param>
/// <param name="TtlSeconds">How long the registry keeps it without a heartbeat; heartbeats go every third of it.</param>
/// <param name="Identity">More <c>identity</c> fields (manufacturer, model, firmware_version…), after device_type.</param>
public sealed record DeviceSpec(string DeviceId, string DeviceType, string Description, IReadOnlyList<FunctionSpec> Functions,
    IReadOnlyList<EventSpec> Events, int TtlSeconds = 15, IReadOnlyList<KeyValuePair<string, string>>? Identity = null)
{
    /// <summary>
    /// Writes the <c>registerDevice</c> params (also the <c>requestRegistration</c> result, and most of a presence
    /// message): <c>{device_id, device_ttl, capabilities, identity, status}</c>, in the reference's order.
    /// </summary>
    public void WriteRegistration(Utf8JsonWriter w, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteString("device_id"u8, DeviceId);
        w.WriteNumber("device_ttl"u8, TtlSeconds);
        WriteDescription(w, now);
    }

    /// <summary>The <c>capabilities</c>, <c>identity</c> and <c>status</c> members.</summary>
    public void WriteDescription(Utf8JsonWriter w, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject("capabilities"u8);
        w.WriteString("description"u8, Description);
        w.WriteStartArray("functions"u8);
        // The reference lists functions in attribute order, which is alphabetical.
        foreach (var f in Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name"u8, f.Name);
            w.WriteString("description"u8, f.Description);
            w.WritePropertyName("parameters"u8);
            w.WriteRawValue(f.ParametersSchema);
            w.WritePropertyName("labels"u8);
            w.WriteRawValue(f.LabelsJson ?? "null");
            w.WriteStartArray("tags"u8);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("events"u8);
        foreach (var e in Events.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name"u8, e.Name);
            w.WriteString("description"u8, e.Description);
            w.WritePropertyName("payload_schema"u8);
            w.WriteRawValue(e.PayloadSchema ?? "null");
            w.WriteNull("labels"u8);
            w.WriteStartArray("tags"u8);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("labels"u8);
        w.WriteEndObject();
        w.WriteStartObject("identity"u8);
        w.WriteString("device_type"u8, DeviceType);
        foreach (var (key, value) in Identity ?? [])
        {
            w.WriteString(key, value);
        }
        w.WriteEndObject();
        w.WriteStartObject("status"u8);
        w.WriteString("ts"u8, WireTime.Iso(now));
        w.WriteString("availability"u8, "idle");
        w.WriteNumber("busy_score"u8, 0.0);
        w.WriteBoolean("online"u8, true);
        w.WriteEndObject();
    }
}
