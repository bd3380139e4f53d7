using System.Text.RegularExpressions;

namespace BoxBot.Mesh;

/// <summary>
/// Device Connect subject names: <c>device-connect.{tenant}.{device_id}.cmd|heartbeat|presence|event.{name}</c>
/// and the tenant-wide <c>device-connect.{tenant}.registry</c>. Every token is validated so a caller-supplied
/// id can never add subject levels or wildcards (and so widen what a subject or a permission matches).
/// </summary>
public static partial class MeshSubjects
{
    /// <summary>First token of every Device Connect subject.</summary>
    public const string Root = "device-connect";

    /// <summary>Request/reply subject of a device's JSON-RPC commands.</summary>
    public static string Cmd(string tenant, string deviceId) => Device(tenant, deviceId, "cmd");

    /// <summary>Subject a device publishes its heartbeats on.</summary>
    public static string Heartbeat(string tenant, string deviceId) => Device(tenant, deviceId, "heartbeat");

    /// <summary>Subject a device publishes its presence on.</summary>
    public static string Presence(string tenant, string deviceId) => Device(tenant, deviceId, "presence");

    /// <summary>Subject of a device's named event (a JSON-RPC notification).</summary>
    public static string Event(string tenant, string deviceId, string eventName)
    {
        Check(eventName, nameof(eventName));
        return Device(tenant, deviceId, "event") + "." + eventName;
    }

    /// <summary>Tenant-wide registry subject (<c>registerDevice</c> and friends).</summary>
    public static string Registry(string tenant) => Prefix(tenant) + ".registry";

    /// <summary>Tenant-wide discovery subject (<c>discovery/listDevices</c>, <c>discovery/getDevice</c>).</summary>
    public static string Discovery(string tenant) => Prefix(tenant) + ".discovery";

    /// <summary>Registry-less discovery: a probe asks every device to publish its presence now.</summary>
    public static string DiscoveryProbe(string tenant) => Prefix(tenant) + ".discovery.probe";

    /// <summary>Tenant-wide broadcast of function calls to many devices.</summary>
    public static string Broadcast(string tenant) => Prefix(tenant) + ".broadcast";

    /// <summary>The registry's notice that a device registered (<c>online</c>) or missed its heartbeats (<c>offline</c>).</summary>
    public static string DeviceNotice(string tenant, bool online) => Prefix(tenant) + (online ? ".device.online" : ".device.offline");

    /// <summary><c>device-connect.{tenant}</c>: the first two tokens of every subject of the tenant.</summary>
    public static string Prefix(string tenant)
    {
        Check(tenant, nameof(tenant));
        return $"{Root}.{tenant}";
    }

    /// <summary>
    /// The device id in <paramref name="subject"/> when it is <c>device-connect.{tenant}.{device}.{kind}…</c>, else null.
    /// </summary>
    public static string? DeviceOf(string subject, string tenant, string kind)
    {
        var prefix = Prefix(tenant) + ".";
        if (!subject.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = subject.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        if (dot <= 0)
        {
            return null;
        }
        var after = rest[(dot + 1)..];
        return after.SequenceEqual(kind) || after.StartsWith(kind + ".", StringComparison.Ordinal) ? rest[..dot].ToString() : null;
    }

    /// <summary>True when <paramref name="prefix"/> can be the first token of reply subjects (<c>_INBOX</c>, <c>_INBOX_lamp</c>).</summary>
    public static bool IsValidInboxPrefix(string? prefix) => prefix is { Length: > 0 and <= 80 } && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>True when <paramref name="token"/> is a valid tenant id, device id or event name.</summary>
    public static bool IsValidToken(string? token) => token is not null && TokenPattern().IsMatch(token);

    /// <summary><c>device-connect.{tenant}.{device}.{kind}</c>.</summary>
    public static string Device(string tenant, string deviceId, string kind)
    {
        Check(tenant, nameof(tenant));
        Check(deviceId, nameof(deviceId));
        return $"{Root}.{tenant}.{deviceId}.{kind}";
    }

    private static void Check(string value, string parameter)
    {
        if (!IsValidToken(value))
        {
            throw new ArgumentException(
                $"Invalid mesh {parameter} '{value}': use 1-64 of A-Z, a-z, 0-9, '_' or '-' (no dots, wildcards or spaces).",
                parameter);
        }
    }

    // \z, not $: $ would also accept a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();
}
