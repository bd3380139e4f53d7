using System.Runtime.InteropServices;
using BoxBot.Linux;

namespace BoxBot.Sandbox.Sdk.Internal;

/// <summary>
/// Reads a file beneath a workspace without following any symlink: every folder is opened with
/// openat(O_DIRECTORY|O_NOFOLLOW) relative to the previous one, so a job that swaps a folder for a
/// symlink between our check and our open gets ELOOP, not /etc. No realpath-then-open race.
/// </summary>
internal static unsafe partial class WorkspaceFile
{
    private const int ELOOP = 40;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int ENXIO = 6;
    private const int EINTR = 4;

    private const int ORdOnly = 0;
    private const int ONoCtty = 0x100;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    // The only open flags whose values differ between the architectures boxbot ships on.
    private static readonly int ODirectory = IsArm ? 0x4000 : 0x10000;
    private static readonly int ONoFollow = IsArm ? 0x8000 : 0x20000;

    private static bool IsArm => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    /// <summary>Reads <paramref name="components"/> (no "", ".", "..") beneath <paramref name="root"/>; on refusal returns null and says why.</summary>
    public static byte[]? Read(string root, IReadOnlyList<string> components, long maxBytes, out string refusal)
    {
        refusal = "";
        var dir = Open(-100 /* AT_FDCWD */, root, ORdOnly | ODirectory | OCloExec);
        if (dir < 0)
        {
            refusal = "the workspace is not available";
            return null;
        }

        try
        {
            for (var i = 0; i < components.Count - 1; i++)
            {
                var next = Open(dir, components[i], ORdOnly | ODirectory | ONoFollow | OCloExec);
                if (next < 0)
                {
                    refusal = Marshal.GetLastPInvokeError() switch
                    {
                        ELOOP or ENOTDIR => "a folder on the path is a symbolic link or not a folder",
                        ENOENT => "no such file in the workspace",
                        _ => "the path cannot be opened",
                    };
                    return null;
                }

                Close(dir);
                dir = next;
            }

            return ReadLast(dir, components[^1], maxBytes, out refusal);
        }
        finally
        {
            Close(dir);
        }
    }

    private static byte[]? ReadLast(int dir, string name, long maxBytes, out string refusal)
    {
        // Look before opening, so a fifo or device is never opened at all.
        if (!LinuxFile.TryStatAt(dir, name, LinuxFile.AtSymlinkNoFollow, out var before))
        {
            refusal = Marshal.GetLastPInvokeError() == ENOENT ? "no such file in the workspace" : "the path cannot be examined";
            return null;
        }

        if (Refuse(before, maxBytes, out refusal))
        {
            return null;
        }

        var fd = Open(dir, name, ORdOnly | ONoFollow | ONonBlock | ONoCtty | OCloExec);
        if (fd < 0)
        {
            refusal = Marshal.GetLastPInvokeError() switch
            {
                ELOOP => "the file is a symbolic link",
                ENXIO => "not a regular file",
                _ => "the file cannot be opened",
            };
            return null;
        }

        try
        {
            // The job may have swapped the name between the look and the open: judge what we actually opened.
            if (!LinuxFile.TryStatAt(fd, "", LinuxFile.AtEmptyPath, out var opened))
            {
                refusal = "the file cannot be examined";
                return null;
            }

            if (Refuse(opened, maxBytes, out refusal))
            {
                return null;
            }

            if (!opened.SameFileAs(before))
            {
                refusal = "the file changed while it was being attached";
                return null;
            }

            return ReadAll(fd, maxBytes, out refusal);
        }
        finally
        {
            Close(fd);
        }
    }

    private static bool Refuse(in FileStatus facts, long maxBytes, out string refusal)
    {
        refusal = "";
        if (facts.IsSymbolicLink)
        {
            refusal = "the file is a symbolic link";
        }
        else if (!facts.IsRegularFile)
        {
            refusal = "not a regular file";
        }
        else if (facts.Links != 1)
        {
            // A hard link could name a file outside the workspace that the host can read and the job cannot.
            refusal = "the file has other hard links";
        }
        else if (facts.Size > maxBytes)
        {
            refusal = $"the file is larger than {maxBytes} bytes";
        }

        return refusal.Length > 0;
    }

    private static byte[]? ReadAll(int fd, long maxBytes, out string refusal)
    {
        refusal = "";
        // One byte more than allowed: a file that grew since fstat is caught rather than cut.
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        fixed (byte* start = buffer)
        {
            while (total < buffer.Length)
            {
                var n = ReadNative(fd, start + total, (nuint)(buffer.Length - total));
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                    {
                        continue;
                    }

                    refusal = "the file cannot be read";
                    return null;
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
            }
        }

        if (total > maxBytes)
        {
            refusal = $"the file is larger than {maxBytes} bytes";
            return null;
        }

        return buffer.AsSpan(0, total).ToArray();
    }

    private static int Open(int dir, string path, int flags)
    {
        while (true)
        {
            var fd = OpenAtNative(dir, path, flags, 0);
            if (fd >= 0 || Marshal.GetLastPInvokeError() != EINTR)
            {
                return fd;
            }
        }
    }

    private static void Close(int fd) => _ = CloseNative(fd);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAtNative(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);
}
