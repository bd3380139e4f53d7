namespace BoxBot.Cli.Doctor;

/// <summary>
/// Check 9: the host hardening <c>harden-os.sh</c> applies: SSH by key only and never as root, and the nftables table
/// <c>inet boxbot</c> in place.
/// </summary>
internal static class SshFirewallCheck
{
    public const string SshGroup = "ssh";
    public const string FirewallGroup = "firewall";
    public const string Harden = "sudo /usr/lib/boxbot/harden-os.sh";

    /// <summary>sshd_config keywords (as <c>sshd -T</c> prints them, lower case) and the only value allowed.</summary>
    public static readonly IReadOnlyList<(string Key, string Value)> SshRequired =
    [
        ("passwordauthentication", "no"),
        ("permitrootlogin", "no"),
    ];

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        if (context.Development)
        {
            return
            [
                Finding.Skip(SshGroup, "sshd", "SSH: not checked on a development box"),
                Finding.Skip(FirewallGroup, "nft", "firewall: not checked on a development box"),
            ];
        }
        var findings = new List<Finding>();
        var sshd = ChildProcess.FindInPath("sshd");
        if (sshd is null)
        {
            findings.Add(Finding.Ok(SshGroup, "sshd", "SSH: no SSH server installed"));
        }
        else
        {
            var r = await ChildProcess.RunAsync(sshd, ["-T"], cancellationToken: cancellationToken);
            findings.Add(r.ExitCode == 0
                ? EvaluateSshd(r.Stdout)
                : context.IsRoot
                    ? Finding.Fail(SshGroup, "sshd", $"SSH: `sshd -T` failed: {r.Problem ?? FirstLine(r.Stderr)}", "sudo sshd -t")
                    : Finding.Warn(SshGroup, "sshd", $"SSH: `sshd -T` needs root ({FirstLine(r.Stderr)})", "sudo boxbot doctor"));
        }

        var nft = ChildProcess.FindInPath("nft");
        if (nft is null)
        {
            findings.Add(Finding.Fail(FirewallGroup, "nft", "firewall: nft is not installed, so the table inet boxbot cannot exist", Harden));
            return findings;
        }
        var table = await ChildProcess.RunAsync(nft, ["list", "table", "inet", "boxbot"], cancellationToken: cancellationToken);
        findings.Add(EvaluateFirewall(table, context.IsRoot));
        return findings;
    }

    /// <summary>The verdict on <c>sshd -T</c>'s effective configuration (one <c>keyword value</c> a line).</summary>
    public static Finding EvaluateSshd(string sshdT)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (sshdT ?? "").Split('\n'))
        {
            var parts = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 2)
            {
                settings.TryAdd(parts[0].ToLowerInvariant(), parts[1]);
            }
        }
        var wrong = SshRequired.Where(r => settings.GetValueOrDefault(r.Key) != r.Value)
            .Select(r => $"{r.Key} {settings.GetValueOrDefault(r.Key) ?? "(not set)"} (must be {r.Value})").ToList();
        return wrong.Count == 0
            ? Finding.Ok(SshGroup, "sshd", "SSH: key-only (passwordauthentication no), no root login (permitrootlogin no)")
            : Finding.Fail(SshGroup, "sshd", $"SSH: sshd -T says {string.Join(", ", wrong)}", Harden);
    }

    /// <summary>The verdict on <c>nft list table inet boxbot</c>.</summary>
    public static Finding EvaluateFirewall(ChildResult result, bool root)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.ExitCode == 0 && result.Stdout.Contains("table inet boxbot", StringComparison.Ordinal))
        {
            return Finding.Ok(FirewallGroup, "nft", "firewall: nftables table inet boxbot is loaded");
        }
        if (!root && result.Stderr.Contains("Operation not permitted", StringComparison.Ordinal))
        {
            return Finding.Warn(FirewallGroup, "nft", "firewall: reading nftables needs root", "sudo boxbot doctor");
        }
        return Finding.Fail(FirewallGroup, "nft", $"firewall: no nftables table inet boxbot ({result.Problem ?? FirstLine(result.Stderr)})", Harden);
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output";
}
