using System.Net.Sockets;
using System.Text;

namespace BoxBot.Hosting;

/// <summary>
/// The systemd notification protocol (sd_notify(3)): one datagram per state change to the
/// socket named by <c>$NOTIFY_SOCKET</c>. Silent when the variable is unset (not under
/// systemd), so daemons call it unconditionally.
/// </summary>
public sealed class SdNotify : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _gate = new();

    private SdNotify(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return;
        }
        // A leading '@' names a Linux abstract socket, which .NET spells with a leading NUL.
        var path = address[0] == '@' ? "\0" + address[1..] : address;
        _endPoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>Reads <c>NOTIFY_SOCKET</c> and <c>WATCHDOG_USEC</c>/<c>WATCHDOG_PID</c>.</summary>
    public static SdNotify FromEnvironment()
    {
        var notify = new SdNotify(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));
        notify.WatchdogInterval = ReadWatchdogInterval();
        return notify;
    }

    /// <summary>True when a notification socket is configured.</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary>How often systemd expects WATCHDOG=1, or null when the watchdog is off for this process.</summary>
    public TimeSpan? WatchdogInterval { get; private set; }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    public void Status(string status) => Send("STATUS=" + status);

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    public void Watchdog() => Send("WATCHDOG=1");

    private void Send(string state)
    {
        if (_socket is null || _endPoint is null)
        {
            return;
        }
        lock (_gate)
        {
            try
            {
                _socket.SendTo(Encoding.UTF8.GetBytes(state), _endPoint);
            }
            catch (SocketException)
            {
                // systemd went away or the socket is gone: a notification is advisory, never fatal.
            }
        }
    }

    private static TimeSpan? ReadWatchdogInterval()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out var usec) || usec <= 0)
        {
            return null;
        }
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return null;
        }
        return TimeSpan.FromMicroseconds(usec);
    }

    public void Dispose() => _socket?.Dispose();
}
