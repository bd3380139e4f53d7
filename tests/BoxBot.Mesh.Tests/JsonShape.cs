using System.Text.Json;

namespace BoxBot.Mesh.Tests;

/// <summary>Field-by-field comparison of our messages with the reference's samples.</summary>
internal static class JsonShape
{
    public static string Sample(string name) =>
        File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Samples", "reference", name));

    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static JsonElement Parse(ReadOnlyMemory<byte> json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>
    /// The same members in the same order, each of the same JSON type; with <paramref name="values"/> also the same values
    /// (numbers by value: Python writes 0.0 where .NET writes 0). <paramref name="ignore"/> names members (by path) whose
    /// values may differ (ids, times).
    /// </summary>
    public static void AssertSame(JsonElement expected, JsonElement actual, bool values = true, params string[] ignore) =>
        Compare(expected, actual, "$", values, ignore);

    private static void Compare(JsonElement expected, JsonElement actual, string path, bool values, string[] ignore)
    {
        Assert.That(Kind(actual), Is.EqualTo(Kind(expected)), $"{path}: the JSON type");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.That(actual.EnumerateObject().Select(p => p.Name), Is.EqualTo(expected.EnumerateObject().Select(p => p.Name)), $"{path}: the members, in order");
                foreach (var member in expected.EnumerateObject())
                {
                    Compare(member.Value, actual.GetProperty(member.Name), $"{path}.{member.Name}", values, ignore);
                }
                break;
            case JsonValueKind.Array:
                Assert.That(actual.GetArrayLength(), Is.EqualTo(expected.GetArrayLength()), $"{path}: the length");
                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    Compare(expected[i], actual[i], $"{path}[{i}]", values, ignore);
                }
                break;
            default:
                if (values && !ignore.Contains(path))
                {
                    if (expected.ValueKind == JsonValueKind.Number)
                    {
                        Assert.That(actual.GetDouble(), Is.EqualTo(expected.GetDouble()), path);
                    }
                    else
                    {
                        Assert.That(actual.GetRawText(), Is.EqualTo(expected.GetRawText()), path);
                    }
                }
                break;
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? "boolean" : e.ValueKind.ToString();
}
