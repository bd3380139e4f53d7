namespace BoxBot.Agent;

/// <summary>
/// A package request or install that cannot go ahead: pip failed or timed out, the resolution names something that
/// may not be installed (not a wheel, no sha256, an unusable name), or the venv cannot be written. The message is
/// for the admin and never holds anything secret.
/// </summary>
public sealed class PackageException : Exception
{
    public PackageException(string message)
        : base(message)
    {
    }

    public PackageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
