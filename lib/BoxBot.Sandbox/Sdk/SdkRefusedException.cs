namespace BoxBot.Sandbox.Sdk;

/// <summary>
/// Thrown by an <see cref="ISdkHost"/> to refuse a call with a message that is safe to show the job
/// (it must never contain a secret value). It becomes error <see cref="SdkErrorCodes.Refused"/>.
/// </summary>
public sealed class SdkRefusedException(string message) : Exception(message);
