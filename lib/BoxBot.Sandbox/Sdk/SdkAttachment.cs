namespace BoxBot.Sandbox.Sdk;

/// <summary>A workspace file a job returned with <c>bb.output.attach</c>: its bytes as they were at attach time.</summary>
public sealed record SdkAttachment(string Name, byte[] Content);
