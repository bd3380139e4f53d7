using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BoxBot.Cli.Internal;

/// <summary>
/// How every command prints JSON: one indented document (or, for streams such as `boxbot log`, one compact line per
/// entry), with only the escaping JSON requires, so "0.1.0+1a2b" reads as it is written and not as "0.1.0\u002B1a2b".
/// </summary>
internal static class CliJson
{
    private static readonly JsonWriterOptions Document = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Line = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON text of <paramref name="value"/> (indented unless <paramref name="compact"/>).</summary>
    public static string Format<T>(T value, JsonTypeInfo<T> type, bool compact = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, compact ? Line : Document))
        {
            JsonSerializer.Serialize(writer, value, type);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The indented text of a JSON value read from elsewhere (a device's result).</summary>
    public static string Format(JsonElement value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Document))
        {
            value.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Prints <paramref name="value"/> on stdout as one document and a line break.</summary>
    public static void Print<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(Format(value, type));

    /// <summary>Prints <paramref name="value"/> on stdout as one compact line (JSON lines).</summary>
    public static void PrintLine<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(Format(value, type, compact: true));
}
