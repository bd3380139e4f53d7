namespace BoxBot.Sandbox;

/// <summary>A job's network: <see cref="None"/> is an empty network namespace (not even loopback is up).</summary>
public enum JobNetwork
{
    None,
    Internet,
}
