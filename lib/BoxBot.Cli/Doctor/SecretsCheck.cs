using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Doctor;

/// <summary>
/// Check 3: no secret is readable by anyone but its owner. Every file in the credentials folder (known names or not)
/// and the agent's <c>secrets.json</c> and <c>identity.key</c> must have no group or other bit.
/// </summary>
internal static class SecretsCheck
{
    public const string Group = "secrets";

    private const uint GroupOther = 0b000_111_111;

    /// <summary>The secret files the layout names: each catalogued credential and the agent's two secret state files.</summary>
    public static IEnumerable<string> KnownSecretFiles(BoxPaths paths) =>
        Credentials.All.Select(c => Path.Combine(paths.CredentialsDir, c.Name)).Concat(StateSecrets(paths));

    public static Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        var paths = context.Paths;
        var findings = new List<Finding>();
        var files = new List<string>();
        try
        {
            files.AddRange(Directory.EnumerateFileSystemEntries(paths.CredentialsDir).Order(StringComparer.Ordinal));
        }
        catch (DirectoryNotFoundException)
        {
            // The layout check reports the missing folder.
        }
        catch (UnauthorizedAccessException)
        {
            findings.Add(context.IsRoot
                ? Finding.Fail(Group, paths.CredentialsDir, $"{paths.CredentialsDir}: cannot be listed", null)
                : Finding.Warn(Group, paths.CredentialsDir, $"{paths.CredentialsDir}: only root can list it, so its files were not checked", "sudo boxbot doctor"));
        }
        files.AddRange(StateSecrets(paths));
        foreach (var file in files)
        {
            FileStatus? status;
            try
            {
                status = LinuxFile.LStat(file);
            }
            catch (IOException e)
            {
                findings.Add(Finding.Warn(Group, file, $"{file}: cannot be examined as this user ({e.Message})", "sudo boxbot doctor"));
                continue;
            }
            if (status is { } st)
            {
                findings.Add(Evaluate(file, st, context.Development));
            }
        }
        return Task.FromResult<IReadOnlyList<Finding>>(findings);
    }

    /// <summary>The verdict on one secret file.</summary>
    public static Finding Evaluate(string path, FileStatus status, bool development)
    {
        var sudo = development ? "" : "sudo ";
        if (!status.IsRegularFile)
        {
            return Finding.Fail(Group, path, $"{path} is a {status.TypeName}, not a regular file: secrets must be plain files (a link is refused)",
                $"{sudo}rm {path}  # then write the secret into a regular file of mode 0600");
        }
        return (status.Permissions & GroupOther) != 0
            ? Finding.Fail(Group, path, $"{path} has mode {LayoutCheck.Octal(status.Permissions)}: a secret readable by group or others", $"{sudo}chmod 600 {path}")
            : Finding.Ok(Group, path, $"{path}: {LayoutCheck.Octal(status.Permissions)}, its owner's only");
    }

    private static IEnumerable<string> StateSecrets(BoxPaths paths) =>
        new[] { "secrets.json", "identity.key" }.Select(name => Path.Combine(paths.StateDir(Daemons.Agent), name));
}
