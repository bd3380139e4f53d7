using System.Buffers;
using System.Text.Json;

namespace BoxBot.Sandbox.Sdk.Internal;

/// <summary>Builds reply lines with Utf8JsonWriter: no reflection, so nothing for the AOT trimmer to lose.</summary>
internal static class SdkReply
{
    public static byte[] Result(long id, Action<Utf8JsonWriter> writeResult)
    {
        return Write(writer =>
        {
            writer.WriteNumber("id", id);
            writer.WritePropertyName("result");
            writeResult(writer);
        });
    }

    public static byte[] Error(long? id, int code, string message)
    {
        return Write(writer =>
        {
            if (id is { } value)
            {
                writer.WriteNumber("id", value);
            }
            else
            {
                writer.WriteNull("id");
            }

            writer.WriteStartObject("error");
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        });
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            body(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
