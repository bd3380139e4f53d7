namespace BoxBot.Sandbox.Egress.Internal;

/// <summary>
/// A request the proxy answers itself instead of forwarding: the HTTP status and the one line that goes to the
/// client as the body and to the log. Thrown wherever the refusal is found, caught in one place that answers it.
/// </summary>
internal sealed class ProxyRefusal(int status, string reason) : Exception(reason)
{
    public int Status { get; } = status;

    public static ProxyRefusal BadRequest(string reason) => new(400, reason);
}
