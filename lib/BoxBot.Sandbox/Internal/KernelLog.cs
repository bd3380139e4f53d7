using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BoxBot.Sandbox.Seccomp;
using static BoxBot.Sandbox.Internal.SandboxNative;

namespace BoxBot.Sandbox.Internal;

/// <summary>
/// Finds the kernel's audit record of a seccomp kill (type=1326, with the host pid and the syscall
/// number) in /dev/kmsg. Absent when auditd consumes the records or kmsg is not readable: then the
/// result names no syscall.
/// </summary>
internal static partial class KernelLog
{
    public static async Task<string?> FindSeccompSyscallAsync(int hostPid)
    {
        if (hostPid <= 0)
        {
            return null;
        }
        // kauditd prints asynchronously: give it a moment.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var name = Scan(hostPid);
            if (name is not null)
            {
                return name;
            }
            await Task.Delay(20);
        }
        return null;
    }

    private static unsafe string? Scan(int hostPid)
    {
        var fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            string? found = null;
            var buffer = stackalloc byte[8192];
            var pidField = " pid=" + hostPid.ToString(CultureInfo.InvariantCulture) + " ";
            while (true)
            {
                var n = read(fd, buffer, 8192);
                if (n < 0)
                {
                    // EPIPE: a record was overwritten while we read; carry on. EAGAIN: the end.
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == EPIPE)
                    {
                        continue;
                    }
                    return found;
                }
                if (n == 0)
                {
                    return found;
                }
                var line = Encoding.UTF8.GetString(buffer, (int)n);
                if (line.Contains("type=1326", StringComparison.Ordinal) && line.Contains(pidField, StringComparison.Ordinal))
                {
                    var m = SyscallField().Match(line);
                    if (m.Success)
                    {
                        var nr = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                        found = SeccompPolicy.SyscallName(SeccompPolicy.Current, nr) ?? "syscall " + nr;
                    }
                }
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    [GeneratedRegex(@" syscall=(\d+) ")]
    private static partial Regex SyscallField();
}
