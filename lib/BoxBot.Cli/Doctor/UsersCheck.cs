using System.Globalization;
using BoxBot.Contracts;

namespace BoxBot.Cli.Doctor;

/// <summary>A line of <c>getent passwd</c>: <c>name:x:uid:gid:gecos:home:shell</c>.</summary>
internal sealed record PasswdEntry(string Name, uint Uid, uint Gid, string Shell)
{
    public static PasswdEntry? Parse(string line)
    {
        var f = line.Trim().Split(':');
        return f.Length >= 7 && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var uid) && uint.TryParse(f[3], CultureInfo.InvariantCulture, out var gid)
            ? new PasswdEntry(f[0], uid, gid, f[6])
            : null;
    }
}

/// <summary>A line of <c>getent group</c>: <c>name:x:gid:member,member</c>.</summary>
internal sealed record GroupEntry(string Name, uint Gid, IReadOnlyList<string> Members)
{
    public static GroupEntry? Parse(string line)
    {
        var f = line.Trim().Split(':');
        return f.Length >= 4 && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var gid)
            ? new GroupEntry(f[0], gid, f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : null;
    }
}

/// <summary>
/// Check 1: the daemons' system users and the groups that decide who reaches which socket. Users come from NSS
/// (<c>getent</c>), so LDAP or systemd-userdb accounts count like /etc/passwd ones.
/// </summary>
internal static class UsersCheck
{
    public const string Group = "users";
    public const string NoLogin = "/usr/sbin/nologin";

    /// <summary>Debian's SYS_UID_MAX: system users have uids below 1000.</summary>
    public const uint FirstHumanUid = 1000;

    public static IReadOnlyList<string> SystemUsers => InstallLayout.ServiceUsers;

    /// <summary>Group → the users that must be in it, and why.</summary>
    public static IReadOnlyList<(string Group, string[] Members, string Why)> Memberships => InstallLayout.Memberships;

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        if (context.Development)
        {
            return [Finding.Skip(Group, "all", "users and groups: not checked on a development box")];
        }
        var adminGroup = context.Config.Box.AdminGroup;
        var users = new Dictionary<string, PasswdEntry?>();
        var groups = new Dictionary<string, GroupEntry?>();
        foreach (var name in SystemUsers)
        {
            users[name] = await LookupAsync("passwd", name, PasswdEntry.Parse, cancellationToken);
        }
        foreach (var name in Memberships.Select(m => m.Group).Append(adminGroup).Distinct())
        {
            groups[name] = await LookupAsync("group", name, GroupEntry.Parse, cancellationToken);
        }
        foreach (var admin in groups[adminGroup]?.Members ?? [])
        {
            users.TryAdd(admin, await LookupAsync("passwd", admin, PasswdEntry.Parse, cancellationToken));
        }
        return Evaluate(users, groups, adminGroup);
    }

    /// <summary>
    /// The verdict on what NSS said. <paramref name="users"/> holds every system user and every member of the admin group
    /// (null: no such user); <paramref name="groups"/> every group of <see cref="Memberships"/> and the admin group.
    /// </summary>
    public static IReadOnlyList<Finding> Evaluate(IReadOnlyDictionary<string, PasswdEntry?> users, IReadOnlyDictionary<string, GroupEntry?> groups, string adminGroup)
    {
        var findings = new List<Finding>();
        foreach (var name in SystemUsers)
        {
            findings.Add(users.GetValueOrDefault(name) switch
            {
                null => Finding.Fail(Group, name, $"user {name} does not exist",
                    $"sudo adduser --system --group --no-create-home --shell {NoLogin} {name}"),
                { Shell: not NoLogin } u => Finding.Fail(Group, name, $"user {name} has the login shell {u.Shell}, not {NoLogin}",
                    $"sudo usermod --shell {NoLogin} {name}"),
                { Uid: 0 } => Finding.Fail(Group, name, $"user {name} has uid 0: it is root", "sudo dpkg-reconfigure boxbot  # after giving it its own uid"),
                { Uid: >= FirstHumanUid } u => Finding.Warn(Group, name, $"user {name} has uid {u.Uid}, not a system uid (1..{FirstHumanUid - 1})",
                    $"sudo deluser {name} && sudo dpkg-reconfigure boxbot"),
                { } u => Finding.Ok(Group, name, $"user {name} exists (uid {u.Uid}, shell {NoLogin})"),
            });
        }
        foreach (var (group, members, why) in Memberships)
        {
            if (groups.GetValueOrDefault(group) is not { } g)
            {
                findings.Add(Finding.Fail(Group, "group." + group, $"group {group} does not exist", $"sudo addgroup --system {group}"));
                continue;
            }
            var missing = members.Where(m => users.GetValueOrDefault(m) is { } u && !IsMember(u, g)).ToList();
            var absent = members.Where(m => users.GetValueOrDefault(m) is null).ToList();
            var present = members.Except(absent).ToList();
            findings.Add(missing.Count == 0
                ? Finding.Ok(Group, "group." + group, $"group {group} has {(present.Count == 0 ? "none of its members" : string.Join(", ", present))} ({why})" +
                                                      (absent.Count == 0 ? "" : $"; {string.Join(", ", absent)} must be created first (above)"))
                : Finding.Fail(Group, "group." + group, $"group {group} lacks {string.Join(", ", missing)} ({why})",
                    string.Join(" && ", missing.Select(m => $"sudo adduser {m} {group}"))));
        }
        if (groups.GetValueOrDefault(adminGroup) is not { } admins)
        {
            findings.Add(Finding.Fail(Group, "group." + adminGroup, $"group {adminGroup} ([box] admin_group) does not exist", $"sudo addgroup --system {adminGroup}"));
            return findings;
        }
        findings.Add(Finding.Ok(Group, "group." + adminGroup,
            admins.Members.Count == 0 ? $"group {adminGroup} exists (no admins yet: sudo adduser NAME {adminGroup})" : $"group {adminGroup}: {string.Join(", ", admins.Members)}"));
        if (groups.GetValueOrDefault("boxbot") is { } boxbot)
        {
            foreach (var admin in admins.Members)
            {
                if (users.GetValueOrDefault(admin) is { } u && !IsMember(u, boxbot))
                {
                    findings.Add(Finding.Fail(Group, "admin." + admin, $"admin {admin} (group {adminGroup}) is not in group boxbot, so cannot reach /run/boxbot",
                        $"sudo adduser {admin} boxbot"));
                }
            }
        }
        return findings;
    }

    private static bool IsMember(PasswdEntry user, GroupEntry group) => user.Gid == group.Gid || group.Members.Contains(user.Name);

    private static async Task<T?> LookupAsync<T>(string database, string name, Func<string, T?> parse, CancellationToken cancellationToken)
        where T : class
    {
        var r = await ChildProcess.RunAsync("getent", [database, name], cancellationToken: cancellationToken);
        // getent exits 2 for "no such key"; anything else unusual is an error worth seeing.
        return r.ExitCode switch
        {
            0 => parse(r.Stdout.Split('\n')[0]),
            2 => null,
            _ => throw new IOException($"getent {database} {name}: {r.Problem ?? r.Stderr.Trim()}"),
        };
    }
}
