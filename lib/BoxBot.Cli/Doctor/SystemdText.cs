using System.Globalization;

namespace BoxBot.Cli.Doctor;

/// <summary>Pure parsers of what systemd and the kernel print about a unit and its process.</summary>
internal static class SystemdText
{
    /// <summary><c>systemctl show UNIT -p A,B</c>: one <c>KEY=VALUE</c> a line (the value may be empty or contain '=').</summary>
    public static IReadOnlyDictionary<string, string> ParseShow(string text)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                properties[line[..eq]] = line[(eq + 1)..];
            }
        }
        return properties;
    }
}

/// <summary>The lines of <c>/proc/PID/status</c> doctor needs: the real uid, no_new_privs, the seccomp mode.</summary>
/// <param name="Uid">The real uid (the first of the four on the <c>Uid:</c> line).</param>
/// <param name="NoNewPrivs"><c>NoNewPrivs: 1</c>.</param>
/// <param name="Seccomp">0 off, 1 strict, 2 filter.</param>
internal sealed record ProcStatus(uint? Uid, bool? NoNewPrivs, int? Seccomp)
{
    public static ProcStatus Parse(string text)
    {
        uint? uid = null;
        bool? nnp = null;
        int? seccomp = null;
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var fields = line[(colon + 1)..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }
            switch (line[..colon])
            {
                case "Uid" when uint.TryParse(fields[0], CultureInfo.InvariantCulture, out var u):
                    uid = u;
                    break;
                case "NoNewPrivs":
                    nnp = fields[0] == "1";
                    break;
                case "Seccomp" when int.TryParse(fields[0], CultureInfo.InvariantCulture, out var s):
                    seccomp = s;
                    break;
            }
        }
        return new ProcStatus(uid, nnp, seccomp);
    }
}
