using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using BoxBot.Linux.Internal;

namespace BoxBot.Linux;

/// <summary>
/// systemd socket activation (sd_listen_fds(3)): a <c>.socket</c> unit made the listening socket, with the owner,
/// group and mode it names, and handed it over as descriptor 3 with <c>LISTEN_PID</c>/<c>LISTEN_FDS</c>. The
/// daemon then never needs write access to the socket's folder, and nobody can put a socket of their own there
/// before it starts.
/// </summary>
public static class SystemdListenFds
{
    /// <summary>SD_LISTEN_FDS_START.</summary>
    public const int FirstDescriptor = 3;

    /// <summary>
    /// The first descriptor systemd passed to this process, or null when none was (not socket-activated).
    /// Clears the variables (so children never see them) and marks the descriptor close-on-exec (so no child
    /// inherits the listener). Call it once, early, before any child process starts.
    /// </summary>
    /// <exception cref="IOException">The variables are malformed, or more than one socket was passed.</exception>
    public static Socket? TakeListener()
    {
        var pidText = Environment.GetEnvironmentVariable("LISTEN_PID");
        var countText = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (string.IsNullOrEmpty(pidText) || string.IsNullOrEmpty(countText))
        {
            return null;
        }
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            throw new IOException($"LISTEN_PID={pidText} LISTEN_FDS={countText} from systemd are not numbers");
        }
        if (pid != Environment.ProcessId || count == 0)
        {
            return null; // meant for another process (our parent), or nothing passed
        }
        if (count != 1)
        {
            throw new IOException($"systemd passed {count} sockets; a boxbot daemon serves exactly one (check the .socket unit)");
        }
        var flags = Libc.fcntl(FirstDescriptor, Libc.FGetFd, 0);
        if (flags < 0 || Libc.fcntl(FirstDescriptor, Libc.FSetFd, flags | Libc.FdCloseOnExec) < 0)
        {
            throw new IOException("descriptor 3 from systemd: " + Errno.Describe(Marshal.GetLastPInvokeError()));
        }
        return new Socket(new SafeSocketHandle(FirstDescriptor, ownsHandle: true));
    }
}
