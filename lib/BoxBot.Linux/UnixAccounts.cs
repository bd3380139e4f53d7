using System.Runtime.InteropServices;
using BoxBot.Linux.Internal;

namespace BoxBot.Linux;

/// <summary>Name ↔ id lookups through NSS (getpwnam_r/getpwuid_r/getgrnam_r/getgrgid_r), so /etc/passwd, systemd-userdb etc. all work.</summary>
public static unsafe class UnixAccounts
{
    private const int InitialBuffer = 16 * 1024;
    private const int MaxBuffer = 1024 * 1024;

    /// <summary>One *_r call into a caller-supplied buffer: returns the error number, and the answer when there is one.</summary>
    private delegate int Reentrant<T>(byte* buffer, nuint size, out T? answer);

    /// <summary>The uid and primary gid of user <paramref name="name"/>, or null when no such user exists.</summary>
    public static (uint Uid, uint Gid)? LookupUser(string name) =>
        Lookup((byte* b, nuint size, out (uint, uint)? answer) =>
        {
            Libc.Passwd pwd;
            Libc.Passwd* result = null;
            var rc = Libc.getpwnam_r(name, &pwd, b, size, &result);
            answer = result != null ? (pwd.Uid, pwd.Gid) : null;
            return rc;
        });

    /// <summary>The name of the user with <paramref name="uid"/>, or null when no user has it.</summary>
    public static string? LookupName(uint uid) =>
        Lookup((byte* b, nuint size, out string? answer) =>
        {
            Libc.Passwd pwd;
            Libc.Passwd* result = null;
            var rc = Libc.getpwuid_r(uid, &pwd, b, size, &result);
            // The name points into the buffer: read it while the buffer is pinned.
            answer = result != null ? Marshal.PtrToStringUTF8(pwd.Name) : null;
            return rc;
        });

    /// <summary>The uid of <paramref name="name"/>, or null when no such user exists.</summary>
    public static uint? LookupUid(string name) => LookupUser(name)?.Uid;

    /// <summary>The gid of group <paramref name="name"/>, or null when no such group exists.</summary>
    public static uint? LookupGid(string name) =>
        Lookup((byte* b, nuint size, out uint? answer) =>
        {
            Libc.Group grp;
            Libc.Group* result = null;
            var rc = Libc.getgrnam_r(name, &grp, b, size, &result);
            answer = result != null ? grp.Gid : null;
            return rc;
        });

    /// <summary>The name of the group with <paramref name="gid"/>, or null when no group has it.</summary>
    public static string? LookupGroupName(uint gid) =>
        Lookup((byte* b, nuint size, out string? answer) =>
        {
            Libc.Group grp;
            Libc.Group* result = null;
            var rc = Libc.getgrgid_r(gid, &grp, b, size, &result);
            answer = result != null ? Marshal.PtrToStringUTF8(grp.Name) : null;
            return rc;
        });

    /// <summary>
    /// Calls <paramref name="call"/> with a pinned buffer, doubling it while NSS says ERANGE (up to 1 MiB) and
    /// retrying on EINTR; the answer, or default when there is none or the call failed.
    /// </summary>
    private static T? Lookup<T>(Reentrant<T> call)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            int rc;
            T? answer;
            fixed (byte* b = buffer)
            {
                rc = call(b, (nuint)size, out answer);
            }
            if (rc == Libc.ERANGE)
            {
                continue;
            }
            if (rc == Libc.EINTR)
            {
                size /= 2;
                continue;
            }
            return rc == 0 ? answer : default;
        }
        return default;
    }
}
