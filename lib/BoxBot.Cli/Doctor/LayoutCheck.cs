using System.Globalization;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Doctor;

/// <summary>Names for ids and ids for names, so the layout verdict can be computed (and tested) without NSS.</summary>
internal sealed record AccountNames(Func<string, uint?> UidOf, Func<string, uint?> GidOf, Func<uint, string?> UserName, Func<uint, string?> GroupName);

/// <summary>
/// Check 2: every path of the installed layout (<see cref="InstallLayout"/>) exists where required, is what it
/// should be (folder, file, socket; never a symlink), belongs to its owner and group, and is not more open than the
/// table says. On a development box: the folders and sockets under $BOXBOT_HOME, by mode only (the developer owns them).
/// </summary>
internal static class LayoutCheck
{
    public const string Group = "layout";

    private const uint GroupOtherAndSpecial = 0b111_000_111_111; // setuid/setgid/sticky + rwx for group and other
    private const uint Permission = 0b111_111_111;

    public static Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        var entries = context.Development ? DevelopmentEntries(context.Paths) : InstallLayout.Entries(Credentials.All.Select(c => c.Name));
        var stats = new List<(LayoutEntry Entry, FileStatus? Status, string? Error)>();
        foreach (var entry in entries)
        {
            try
            {
                stats.Add((entry, LinuxFile.LStat(entry.Path), null));
            }
            catch (IOException e)
            {
                stats.Add((entry, null, e.Message));
            }
        }
        var names = new AccountNames(UnixAccounts.LookupUid, UnixAccounts.LookupGid, UnixAccounts.LookupName, UnixAccounts.LookupGroupName);
        var secretFiles = SecretsCheck.KnownSecretFiles(context.Paths).ToHashSet();
        return Task.FromResult<IReadOnlyList<Finding>>([.. stats.Select(s => s.Error is { } error
            ? Unreadable(s.Entry.Path, error, context)
            : Evaluate(s.Entry, s.Status, names, checkOwner: !context.Development, modeCheckedBySecrets: secretFiles.Contains(s.Entry.Path), context.Development))]);
    }

    /// <summary>
    /// What <c>boxbot dev up</c> checks before it starts anything: the development tree's folders and config (not the
    /// sockets, which the daemons make) and its secret files, by doctor's own verdicts, so that a box `dev up` starts
    /// without a word is one doctor passes. Only the failures come back.
    /// </summary>
    public static IReadOnlyList<Finding> DevelopmentProblems(BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var names = new AccountNames(UnixAccounts.LookupUid, UnixAccounts.LookupGid, UnixAccounts.LookupName, UnixAccounts.LookupGroupName);
        var secretFiles = SecretsCheck.KnownSecretFiles(paths).ToHashSet();
        var findings = new List<Finding>();
        foreach (var entry in DevelopmentEntries(paths).Where(e => e.Kind != LayoutKind.Socket))
        {
            findings.Add(Evaluate(entry, LinuxFile.LStat(entry.Path), names, checkOwner: false, secretFiles.Contains(entry.Path), development: true));
        }
        foreach (var file in Directory.Exists(paths.CredentialsDir) ? Directory.EnumerateFileSystemEntries(paths.CredentialsDir) : [])
        {
            if (LinuxFile.LStat(file) is { } st)
            {
                findings.Add(SecretsCheck.Evaluate(file, st, development: true));
            }
        }
        return [.. findings.Where(f => f.Status == FindingStatus.Fail)];
    }

    /// <summary>The development tree's folders and sockets: what <c>boxbot dev up</c> makes and the daemons bind.</summary>
    public static IReadOnlyList<LayoutEntry> DevelopmentEntries(BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var me = UnixAccounts.LookupName(LinuxProcess.EffectiveUid) ?? "you";
        LayoutEntry Dir(string path, UnixFileMode mode, string holds) => new(path, LayoutKind.Directory, me, me, mode, true, holds);
        return
        [
            Dir(paths.Home!, InstallLayout.PrivateDirectory, "the development tree"),
            new(paths.ConfigFile, LayoutKind.File, me, me, InstallLayout.GroupReadableFile, false, "the default development config"),
            Dir(paths.CredentialsDir, InstallLayout.PrivateDirectory, "development credentials"),
            Dir(paths.StateRoot, InstallLayout.GroupDirectory, "the daemons' state folders"),
            .. Daemons.All.Select(d => Dir(paths.StateDir(d), InstallLayout.PrivateDirectory, $"the {d.Name} daemon's state")),
            Dir(paths.RuntimeDir, InstallLayout.GroupDirectory, "the sockets"),
            .. Daemons.All.Select(d => new LayoutEntry(paths.SocketPath(d), LayoutKind.Socket, me, me, InstallLayout.GroupSocket, true, $"the {d.Name} daemon")),
        ];
    }

    /// <summary>
    /// The verdict on one path. <paramref name="actual"/> is its lstat (null: absent). With <paramref name="modeCheckedBySecrets"/>
    /// a group/other bit on a secret file is left to <see cref="SecretsCheck"/>, so one exposed secret is one failure.
    /// </summary>
    public static Finding Evaluate(LayoutEntry entry, FileStatus? actual, AccountNames names, bool checkOwner, bool modeCheckedBySecrets, bool development)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(names);
        var sudo = development ? "" : "sudo ";
        var path = entry.Path;
        var kind = KindName(entry.Kind);
        if (actual is not { } st)
        {
            return entry.Required
                ? Finding.Fail(Group, path, $"{path} is missing: a {kind} for {entry.Holds}", MissingFix(entry, development))
                : Finding.Ok(Group, path, $"{path}: absent, which is fine ({entry.Holds})");
        }
        if (!IsKind(st, entry.Kind))
        {
            return Finding.Fail(Group, path, $"{path} is a {st.TypeName}, not a {kind} ({entry.Holds})",
                development ? $"mv {path} {path}.bad && boxbot dev up" : $"sudo mv {path} {path}.bad && {MissingFix(entry, development)}");
        }

        var problems = new List<string>();
        var fixes = new List<string>();
        var failed = false;
        if (checkOwner)
        {
            var uid = names.UidOf(entry.Owner);
            var gid = names.GidOf(entry.Group);
            if (uid != st.Uid || gid != st.Gid)
            {
                problems.Add($"owned by {names.UserName(st.Uid) ?? st.Uid.ToString(CultureInfo.InvariantCulture)}:{names.GroupName(st.Gid) ?? st.Gid.ToString(CultureInfo.InvariantCulture)}, not {entry.OwnerText}" +
                             (uid is null ? $" (there is no user {entry.Owner})" : "") + (gid is null ? $" (there is no group {entry.Group})" : ""));
                fixes.Add($"{sudo}chown {entry.OwnerText} {path}");
                failed = true;
            }
        }
        var expected = (uint)entry.Mode & 0xFFF;
        var moreOpen = (st.Permissions & ~expected & GroupOtherAndSpecial) != 0 && !modeCheckedBySecrets;
        // In a development tree every daemon runs as the developer: a tighter mode keeps no one out who needs in.
        var tighter = (expected & ~st.Permissions & Permission) != 0 && !development;
        if (moreOpen || tighter)
        {
            problems.Add(moreOpen
                ? $"mode {Octal(st.Permissions)} is more open than {entry.ModeText}"
                : $"mode {Octal(st.Permissions)} is tighter than {entry.ModeText}, so those who need it may be refused");
            fixes.Add($"{sudo}chmod {Convert.ToString(expected, 8)} {path}");
            failed |= moreOpen;
        }
        if (problems.Count == 0)
        {
            var owner = checkOwner ? entry.OwnerText + " " : "";
            return Finding.Ok(Group, path, $"{path}: {kind} {owner}{Octal(st.Permissions)}");
        }
        var message = $"{path}: {string.Join("; ", problems)}";
        var fix = string.Join(" && ", fixes);
        return failed ? Finding.Fail(Group, path, message, fix) : Finding.Warn(Group, path, message, fix);
    }

    private static Finding Unreadable(string path, string error, DoctorContext context) =>
        context.IsRoot
            ? Finding.Fail(Group, path, $"{path}: cannot be examined: {error}", null)
            : Finding.Warn(Group, path, $"{path}: cannot be examined as this user ({error})", "sudo boxbot doctor");

    private static string MissingFix(LayoutEntry entry, bool development)
    {
        if (development)
        {
            return "boxbot dev up";
        }
        if (entry.Path == InstallLayout.EgressSocket)
        {
            return "sudo systemctl enable --now boxbot-egress.socket";
        }
        if (entry.Kind == LayoutKind.Socket && Daemons.All.FirstOrDefault(d => entry.Path.EndsWith("/" + d.SocketName, StringComparison.Ordinal)) is { } daemon)
        {
            return $"sudo systemctl enable --now {InstallLayout.Socket(daemon)}";
        }
        return entry.Path.StartsWith(InstallLayout.LibDir, StringComparison.Ordinal) ? "sudo apt-get install --reinstall boxbot" : "sudo dpkg-reconfigure boxbot";
    }

    private static bool IsKind(FileStatus st, LayoutKind kind) => kind switch
    {
        LayoutKind.Directory => st.IsDirectory,
        LayoutKind.File => st.IsRegularFile,
        _ => st.IsSocket,
    };

    private static string KindName(LayoutKind kind) => kind switch
    {
        LayoutKind.Directory => "directory",
        LayoutKind.File => "file",
        _ => "socket",
    };

    internal static string Octal(uint mode) => "0" + Convert.ToString(mode & 0xFFF, 8).PadLeft(3, '0');
}
