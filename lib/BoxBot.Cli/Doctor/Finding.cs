namespace BoxBot.Cli.Doctor;

/// <summary>How a check came out. Only <see cref="Fail"/> makes <c>boxbot doctor</c> exit non-zero.</summary>
internal enum FindingStatus
{
    Ok,
    Warn,
    Fail,
    /// <summary>The check does not apply here (a development box, no systemd): not a pass, not a problem.</summary>
    Skip,
}

/// <summary>One thing doctor looked at.</summary>
/// <param name="Id">Stable identifier for scripts: <c>GROUP.SUBJECT</c> (<c>layout./etc/boxbot/boxbot.toml</c>).</param>
/// <param name="Group">The check it belongs to (users, layout, secrets, units, sandbox, webhook, mesh, ssh, firewall, versions).</param>
/// <param name="Status">ok, warn, fail or skip.</param>
/// <param name="Message">One line naming the path, unit or value and what is wrong with it.</param>
/// <param name="Fix">A shell command that fixes it; null when the finding is ok or skipped.</param>
internal sealed record Finding(string Id, string Group, FindingStatus Status, string Message, string? Fix = null)
{
    public static Finding Ok(string group, string subject, string message) => new($"{group}.{subject}", group, FindingStatus.Ok, message);

    public static Finding Warn(string group, string subject, string message, string? fix) => new($"{group}.{subject}", group, FindingStatus.Warn, message, fix);

    public static Finding Fail(string group, string subject, string message, string? fix) => new($"{group}.{subject}", group, FindingStatus.Fail, message, fix);

    public static Finding Skip(string group, string subject, string message) => new($"{group}.{subject}", group, FindingStatus.Skip, message);

    /// <summary>"ok", "warn", "fail", "skip": the words of the text and JSON output.</summary>
    public string StatusText => Status switch
    {
        FindingStatus.Ok => "ok",
        FindingStatus.Warn => "warn",
        FindingStatus.Fail => "fail",
        _ => "skip",
    };
}
