using System.Text.Json;

namespace BoxBot.Mesh.Wire;

/// <summary>
/// Checks a call's params against the JSON Schema a function advertises, before the function runs (the reference never
/// does; Python then fails inside the function). The subset Device Connect's schemas use: <c>type</c> (one or several),
/// <c>properties</c>, <c>required</c>, <c>enum</c>, <c>minLength</c>/<c>maxLength</c>, <c>minimum</c>/<c>maximum</c>,
/// <c>items</c>, <c>minItems</c>/<c>maxItems</c>, <c>anyOf</c>. A property the schema does not list is refused unless the
/// schema says <c>additionalProperties: true</c>: the reference's schemas come from Python signatures, where an unknown
/// keyword is an error too. A <c>null</c> is accepted where the default is null (Python's <c>Optional[T] = None</c>).
/// </summary>
public static class ParamSchema
{
    private const int MaxDepth = 16;

    /// <summary>Null when <paramref name="value"/> fits <paramref name="schema"/>; else what is wrong, naming the field.</summary>
    public static string? Check(JsonElement value, JsonElement schema) => Check(value, schema, "params", 0);

    /// <summary>Null when the schema is one this checker understands; else what it cannot use.</summary>
    public static string? Usable(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object ? null : "the parameters schema is not a JSON object";

    private static string? Check(JsonElement value, JsonElement schema, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            return $"{path}: nested too deeply";
        }
        if (schema.ValueKind == JsonValueKind.True)
        {
            return null;
        }
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return schema.ValueKind == JsonValueKind.False ? $"{path}: not allowed" : null;
        }
        if (value.ValueKind == JsonValueKind.Null && schema.TryGetProperty("default"u8, out var fallback) && fallback.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (schema.TryGetProperty("anyOf"u8, out var anyOf) && anyOf.ValueKind == JsonValueKind.Array)
        {
            var problems = anyOf.EnumerateArray().Select(option => Check(value, option, path, depth + 1)).ToList();
            if (!problems.Contains(null))
            {
                return problems.FirstOrDefault() ?? $"{path}: matches none of the allowed forms";
            }
        }
        if (schema.TryGetProperty("type"u8, out var type) && TypeProblem(value, type, path) is { } typeProblem)
        {
            return typeProblem;
        }
        if (schema.TryGetProperty("enum"u8, out var allowed) && allowed.ValueKind == JsonValueKind.Array
            && !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, value)))
        {
            return $"{path}: must be one of {string.Join(", ", allowed.EnumerateArray().Select(a => a.GetRawText()))}";
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var length = value.GetString()!.Length;
                if (Number(schema, "minLength") is { } minLength && length < minLength)
                {
                    return $"{path}: at least {minLength} characters, got {length}";
                }
                if (Number(schema, "maxLength") is { } maxLength && length > maxLength)
                {
                    return $"{path}: at most {maxLength} characters, got {length}";
                }
                break;
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (Number(schema, "minimum") is { } minimum && number < minimum)
                {
                    return $"{path}: at least {minimum}, got {value.GetRawText()}";
                }
                if (Number(schema, "maximum") is { } maximum && number > maximum)
                {
                    return $"{path}: at most {maximum}, got {value.GetRawText()}";
                }
                break;
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                if (Number(schema, "minItems") is { } minItems && count < minItems)
                {
                    return $"{path}: at least {minItems} items, got {count}";
                }
                if (Number(schema, "maxItems") is { } maxItems && count > maxItems)
                {
                    return $"{path}: at most {maxItems} items, got {count}";
                }
                if (schema.TryGetProperty("items"u8, out var items))
                {
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (Check(item, items, $"{path}[{i++}]", depth + 1) is { } itemProblem)
                        {
                            return itemProblem;
                        }
                    }
                }
                break;
            case JsonValueKind.Object:
                return ObjectProblem(value, schema, path, depth);
        }
        return null;
    }

    private static string? ObjectProblem(JsonElement value, JsonElement schema, string path, int depth)
    {
        var hasProperties = schema.TryGetProperty("properties"u8, out var properties) && properties.ValueKind == JsonValueKind.Object;
        if (schema.TryGetProperty("required"u8, out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !value.TryGetProperty(name.GetString()!, out _))
                {
                    return $"{Field(path, name.GetString()!)}: required";
                }
            }
        }
        var additional = schema.TryGetProperty("additionalProperties"u8, out var extra) ? extra : default;
        foreach (var property in value.EnumerateObject())
        {
            var field = Field(path, property.Name);
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                if (Check(property.Value, propertySchema, field, depth + 1) is { } problem)
                {
                    return problem;
                }
            }
            else if (additional.ValueKind == JsonValueKind.Object)
            {
                if (Check(property.Value, additional, field, depth + 1) is { } problem)
                {
                    return problem;
                }
            }
            else if (additional.ValueKind != JsonValueKind.True && (hasProperties || additional.ValueKind == JsonValueKind.False))
            {
                return $"{field}: unknown parameter{(hasProperties ? $" (known: {string.Join(", ", properties.EnumerateObject().Select(p => p.Name))})" : "")}";
            }
        }
        return null;
    }

    private static string? TypeProblem(JsonElement value, JsonElement type, string path)
    {
        if (type.ValueKind == JsonValueKind.String)
        {
            return Is(value, type.GetString()!) ? null : $"{path}: expected {Article(type.GetString()!)}, got {Describe(value)}";
        }
        if (type.ValueKind == JsonValueKind.Array)
        {
            var names = type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList();
            return names.Count == 0 || names.Any(n => Is(value, n)) ? null : $"{path}: expected {string.Join(" or ", names.Select(Article))}, got {Describe(value)}";
        }
        return null;
    }

    private static bool Is(JsonElement value, string type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && (value.TryGetInt64(out _) || (value.TryGetDouble(out var d) && Math.Abs(d % 1) == 0)),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Article(string type) => type is "integer" or "object" or "array" ? "an " + type : "a " + type;

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static double? Number(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var n) && n.ValueKind == JsonValueKind.Number ? n.GetDouble() : null;

    private static string Field(string path, string name) => path == "params" ? name : $"{path}.{name}";
}
