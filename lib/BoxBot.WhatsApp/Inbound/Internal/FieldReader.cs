using System.Globalization;
using System.Text.Json;

namespace BoxBot.WhatsApp.Inbound.Internal;

/// <summary>Which characters an id may hold.</summary>
internal enum IdChars
{
    /// <summary>Any characters (ids the box chose itself, such as a button's payload).</summary>
    Any,

    /// <summary>Printable ASCII, no space (U+0021..U+007E): message ids, which end up in keys and logs.</summary>
    Printable,

    /// <summary>A letter or digit, then letters, digits, '.', '_' or '-': ids the agent may put into a Graph API URL path.</summary>
    Token,
}

/// <summary>A JSON object and how it is named in skip reasons ("text." for the <c>text</c> object of a message).</summary>
internal readonly record struct Node(JsonElement Element, string Label);

/// <summary>
/// Reads the fields of one element of a delivery (a message, a status, a change). The first problem is kept as the
/// element's skip reason; after it every read returns null, so a caller reads all fields and checks once.
/// A JSON <c>null</c> counts as a missing field. Nothing here throws on any input.
/// </summary>
internal sealed class FieldReader(string path)
{
    // Year 9999: DateTimeOffset.FromUnixTimeSeconds throws above it, and the agent will call it.
    internal const long MaxUnixSeconds = 253_402_300_799;

    public string? Problem { get; private set; }

    public bool Failed => Problem is not null;

    public void Fail(string reason) => Problem ??= $"{path}: {reason}";

    public Node? Object(Node parent, string name, bool required = false) =>
        Get(parent, name, required, JsonValueKind.Object, "an object") is { } e ? new Node(e, parent.Label + name + ".") : null;

    public JsonElement? Array(Node parent, string name, bool required = false) =>
        Get(parent, name, required, JsonValueKind.Array, "an array");

    /// <summary>A string, cut at <paramref name="maxLength"/> characters (never inside a surrogate pair).</summary>
    public string? String(Node parent, string name, int maxLength, bool required = false) =>
        Get(parent, name, required, JsonValueKind.String, "a string") is { } e && Decode(e, parent.Label + name) is { } s
            ? Truncate(s, maxLength)
            : null;

    /// <summary>An id: a string of 1 to <paramref name="maxLength"/> allowed characters; longer, empty or other characters fail.</summary>
    public string? Id(Node parent, string name, int maxLength, IdChars chars, bool required = false)
    {
        var label = parent.Label + name;
        if (Get(parent, name, required, JsonValueKind.String, "a string") is not { } e || Decode(e, label) is not { } id)
        {
            return null;
        }

        if (id.Length == 0)
        {
            Fail($"{label} is empty");
            return null;
        }

        if (id.Length > maxLength)
        {
            Fail($"{label} is over {maxLength} characters");
            return null;
        }

        if (!IsAllowed(id, chars))
        {
            Fail($"{label} has characters an id may not have");
            return null;
        }

        return id;
    }

    /// <summary>
    /// A phone number (<see cref="PhoneNumbers.Normalize"/>): a string, or a non-negative integer (older examples of
    /// Meta's show numbers unquoted). With <paramref name="lenient"/>, a string that is no number gives null instead
    /// of failing.
    /// </summary>
    public string? Phone(Node parent, string name, bool required = false, bool lenient = false)
    {
        var label = parent.Label + name;
        if (Field(parent, name, required) is not { } e)
        {
            return null;
        }

        string? text = e.ValueKind switch
        {
            JsonValueKind.String => Decode(e, label),
            JsonValueKind.Number when e.GetRawText() is var raw && raw.All(char.IsAsciiDigit) => raw,
            JsonValueKind.Number => WrongType(label, "a phone number"),
            _ => WrongType(label, "a string"),
        };
        if (text is null)
        {
            return null;
        }

        var digits = PhoneNumbers.Normalize(text);
        if (digits is null && !lenient)
        {
            Fail($"{label} is not a phone number");
        }
        return digits;
    }

    /// <summary>Unix seconds: a string of digits (as Meta sends it) or an integer, 0 to year 9999.</summary>
    public long? Timestamp(Node parent, string name, bool required = false)
    {
        var label = parent.Label + name;
        if (Field(parent, name, required) is not { } e)
        {
            return null;
        }

        long seconds;
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                if (Decode(e, label) is not { } text)
                {
                    return null;
                }
                if (text.Length is 0 or > 18 || !text.All(char.IsAsciiDigit))
                {
                    Fail($"{label} is not a Unix time");
                    return null;
                }
                seconds = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case JsonValueKind.Number:
                if (!e.TryGetInt64(out seconds))
                {
                    Fail($"{label} is not a Unix time");
                    return null;
                }
                break;
            default:
                return WrongType<long>(label, "a string");
        }

        if (seconds is < 0 or > MaxUnixSeconds)
        {
            Fail($"{label} is out of range");
            return null;
        }
        return seconds;
    }

    /// <summary>A finite JSON number between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public double? Number(Node parent, string name, double min, double max, bool required = false)
    {
        var label = parent.Label + name;
        if (Get(parent, name, required, JsonValueKind.Number, "a number") is not { } e)
        {
            return null;
        }

        if (!e.TryGetDouble(out var value) || !double.IsFinite(value) || value < min || value > max)
        {
            Fail($"{label} is out of range");
            return null;
        }
        return value;
    }

    /// <summary>A JSON integer that fits in 32 bits.</summary>
    public int? Int32(Node parent, string name, bool required = false)
    {
        if (Get(parent, name, required, JsonValueKind.Number, "a number") is not { } e)
        {
            return null;
        }

        if (!e.TryGetInt32(out var value))
        {
            Fail($"{parent.Label}{name} is not a 32-bit integer");
            return null;
        }
        return value;
    }

    /// <summary><paramref name="value"/> cut to at most <paramref name="maxLength"/> UTF-16 units, never between a surrogate pair.</summary>
    public static string Truncate(string value, int maxLength)
    {
        if (value.Length <= maxLength)
        {
            return value;
        }

        var cut = char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        return value[..cut];
    }

    /// <summary>An untrusted value fit for a skip reason (which ends up in logs): quoted, printable ASCII, at most 40 characters.</summary>
    public static string Show(string value)
    {
        const int max = 40;
        var shown = new char[Math.Min(value.Length, max)];
        for (var i = 0; i < shown.Length; i++)
        {
            shown[i] = value[i] is >= ' ' and <= '~' and not '"' ? value[i] : '?';
        }
        return "\"" + new string(shown) + (value.Length > max ? "...\"" : "\"");
    }

    private JsonElement? Field(Node parent, string name, bool required)
    {
        if (Failed)
        {
            return null;
        }

        if (!parent.Element.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail($"no {parent.Label}{name}");
            }
            return null;
        }
        return e;
    }

    private JsonElement? Get(Node parent, string name, bool required, JsonValueKind kind, string what)
    {
        if (Field(parent, name, required) is not { } e)
        {
            return null;
        }

        if (e.ValueKind != kind)
        {
            Fail($"{parent.Label}{name} is not {what}");
            return null;
        }
        return e;
    }

    private string? Decode(JsonElement e, string label)
    {
        try
        {
            return e.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800"): valid JSON syntax, but no valid string.
            Fail($"{label} is not a valid string");
            return null;
        }
    }

    private string? WrongType(string label, string what)
    {
        Fail($"{label} is not {what}");
        return null;
    }

    private T? WrongType<T>(string label, string what)
        where T : struct
    {
        Fail($"{label} is not {what}");
        return null;
    }

    private static bool IsAllowed(string id, IdChars chars) => chars switch
    {
        IdChars.Printable => id.All(c => c is > ' ' and <= '~'),
        IdChars.Token => char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'),
        _ => true,
    };
}
