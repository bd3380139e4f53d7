namespace BoxBot.Sandbox;

/// <summary>A job was refused or the runner cannot run jobs; the message says what to do.</summary>
public class SandboxException : Exception
{
    public SandboxException(string message) : base(message) { }

    public SandboxException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Every run slot and queue place is taken; try again later.</summary>
public sealed class SandboxBusyException : SandboxException
{
    public SandboxBusyException(string message) : base(message) { }
}

/// <summary>The job itself asks for something it may not have (too large, a bad secret name, more than the configured limits).</summary>
public sealed class SandboxRequestException : SandboxException
{
    public SandboxRequestException(string message) : base(message) { }
}
