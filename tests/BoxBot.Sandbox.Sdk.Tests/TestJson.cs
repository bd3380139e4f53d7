using System.Text.Json.Serialization;

namespace BoxBot.Sandbox.Sdk.Tests;

[JsonSerializable(typeof(string))]
internal sealed partial class TestJson : JsonSerializerContext;
