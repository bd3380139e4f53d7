using System.Buffers;
using System.Text.Json;

namespace BoxBot.Mesh.Wire;

/// <summary>The one way the mesh code writes a JSON object it sends: what <c>body</c> writes between the braces, as UTF-8.</summary>
public static class WireJson
{
    public static byte[] Object(Action<Utf8JsonWriter> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
