using BoxBot.Linux.Internal;

namespace BoxBot.Linux;

/// <summary>Name ↔ id lookups through NSS (getpwnam_r/getpwuid_r/getgrnam_r), so /etc/passwd, systemd-userdb etc. all work.</summary>
public static unsafe class UnixAccounts
{
    private const int InitialBuffer = 16 * 1024;
    private const int MaxBuffer = 1024 * 1024;

    /// <summary>The uid and primary gid of user <paramref name="name"/>, or null when no such user exists.</summary>
    public static (uint Uid, uint Gid)? LookupUser(string name)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            Libc.Passwd pwd;
            Libc.Passwd* result = null;
            int rc;
            fixed (byte* b = buffer)
            {
                rc = Libc.getpwnam_r(name, &pwd, b, (nuint)size, &result);
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
            return rc == 0 && result != null ? (pwd.Uid, pwd.Gid) : null;
        }
        return null;
    }

    /// <summary>The name of the user with <paramref name="uid"/>, or null when no user has it.</summary>
    public static string? LookupName(uint uid)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            Libc.Passwd pwd;
            Libc.Passwd* result = null;
            int rc;
            fixed (byte* b = buffer)
            {
                rc = Libc.getpwuid_r(uid, &pwd, b, (nuint)size, &result);
                if (rc == 0 && result != null)
                {
                    return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(pwd.Name);
                }
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
            return null;
        }
        return null;
    }

    /// <summary>The uid of <paramref name="name"/>, or null when no such user exists.</summary>
    public static uint? LookupUid(string name) => LookupUser(name)?.Uid;

    /// <summary>The gid of group <paramref name="name"/>, or null when no such group exists.</summary>
    public static uint? LookupGid(string name)
    {
        for (var size = InitialBuffer; size <= MaxBuffer; size *= 2)
        {
            var buffer = new byte[size];
            Libc.Group grp;
            Libc.Group* result = null;
            int rc;
            fixed (byte* b = buffer)
            {
                rc = Libc.getgrnam_r(name, &grp, b, (nuint)size, &result);
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
            return rc == 0 && result != null ? grp.Gid : null;
        }
        return null;
    }
}
