using System.Text;
using System.Text.RegularExpressions;
using BoxBot.Config.Internal;
using BoxBot.Linux;

namespace BoxBot.Config;

/// <summary>
/// Reads secrets: from a credentials folder (systemd's <c>$CREDENTIALS_DIRECTORY</c>, or the development folder),
/// then from an optional env file. Secrets never come from <c>boxbot.toml</c>. A file that others could read or
/// swap is refused with the fix, never used: see <see cref="TryGet"/>.
/// </summary>
public sealed partial class CredentialStore
{
    /// <summary>Set by systemd for units with <c>LoadCredential=</c>.</summary>
    public const string DirectoryVariable = "CREDENTIALS_DIRECTORY";

    /// <summary>Names a development env file of <c>NAME=value</c> lines (mode 0600).</summary>
    public const string EnvFileVariable = "BOXBOT_ENV_FILE";

    // systemd writes $CREDENTIALS_DIRECTORY itself: a private read-only mount, files owned by root (mode 0400)
    // with an ACL entry for the unit's user, which stat shows as group-readable. The owner and mode checks
    // would refuse exactly what systemd hands over, so for that folder only the file-type checks apply.
    private readonly bool _directoryFromSystemd;

    public CredentialStore(string? directory, string? envFile)
        : this(directory, envFile, directoryFromSystemd: false)
    {
    }

    private CredentialStore(string? directory, string? envFile, bool directoryFromSystemd)
    {
        Directory = string.IsNullOrEmpty(directory) ? null : Path.GetFullPath(directory);
        EnvFile = string.IsNullOrEmpty(envFile) ? null : Path.GetFullPath(envFile);
        _directoryFromSystemd = directoryFromSystemd;
    }

    /// <summary>The folder searched first (one file per credential), or null.</summary>
    public string? Directory { get; }

    /// <summary>The env file searched next, or null.</summary>
    public string? EnvFile { get; }

    /// <summary>
    /// 1) <c>$CREDENTIALS_DIRECTORY</c> when set; 2) otherwise <paramref name="paths"/>.CredentialsDir in the
    /// development layout; 3) plus the env file named by <c>$BOXBOT_ENV_FILE</c> when set.
    /// </summary>
    public static CredentialStore FromEnvironment(BoxPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var systemd = Environment.GetEnvironmentVariable(DirectoryVariable);
        var envFile = Environment.GetEnvironmentVariable(EnvFileVariable);
        return !string.IsNullOrEmpty(systemd)
            ? new CredentialStore(systemd, envFile, directoryFromSystemd: true)
            : new CredentialStore(paths.IsDevelopment ? paths.CredentialsDir : null, envFile, directoryFromSystemd: false);
    }

    /// <summary>
    /// The credential's value (one trailing newline trimmed), or null when neither the folder nor the env file has it.
    /// </summary>
    /// <exception cref="CredentialException">
    /// The file or the env file is a symlink or not a regular file, is readable or writable by group or others,
    /// is owned by another user than this process's, cannot be read, or the env file is malformed.
    /// </exception>
    public string? TryGet(string name)
    {
        CheckName(name);
        if (Directory is not null)
        {
            var path = Path.Combine(Directory, name);
            var value = ReadChecked(path, checkOwnerAndMode: !_directoryFromSystemd);
            if (value is not null)
            {
                return TrimNewline(value);
            }
        }

        if (EnvFile is not null && ReadChecked(EnvFile, checkOwnerAndMode: true) is { } text)
        {
            var values = Internal.EnvFile.Parse(EnvFile, text);
            if (values.TryGetValue(name, out var value) || values.TryGetValue(UpperSnake(name), out value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// Like <see cref="TryGet"/>, but an empty credential counts as not set: an installed box has a file for every
    /// credential (systemd's <c>LoadCredential=</c> refuses to start a unit whose file is missing), empty until the
    /// admin fills it.
    /// </summary>
    public string? TryGetSet(string name) => TryGet(name) is { Length: > 0 } value ? value : null;

    /// <summary>Like <see cref="TryGet"/>, but a missing or empty credential is an error that says where to put it.</summary>
    public string Get(string name)
    {
        var value = TryGet(name);
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }

        var what = value is null ? "is missing" : "is empty";
        var where = Directory switch
        {
            null => "no credentials folder is set (installed units get $CREDENTIALS_DIRECTORY from systemd's LoadCredential=; " +
                    "for development set BOXBOT_HOME and run `boxbot dev up`, or point BOXBOT_ENV_FILE at an env file)",
            _ when _directoryFromSystemd =>
                $"put it in {Path.Combine(BoxPaths.Installed.CredentialsDir, name)} (root, mode 0600) and give the unit " +
                $"LoadCredential={name}:{Path.Combine(BoxPaths.Installed.CredentialsDir, name)}",
            _ => $"put it in {Path.Combine(Directory, name)} (mode 0600)",
        };
        var orEnv = EnvFile is null ? "" : $", or add {UpperSnake(name)}=... to {EnvFile}";
        var about = Credentials.Find(name) is { } info ? $" [{info.Description}]" : "";
        throw new CredentialException($"credential '{name}' {what}: {where}{orEnv}{about}",
            Directory is null ? EnvFile : Path.Combine(Directory, name));
    }

    /// <summary>The env-file spelling of a credential name: <c>whatsapp-app-secret</c> → <c>WHATSAPP_APP_SECRET</c>.</summary>
    public static string UpperSnake(string name) => name.Replace('-', '_').ToUpperInvariant();

    private static string? ReadChecked(string path, bool checkOwnerAndMode)
    {
        FileStatus? status;
        try
        {
            status = LinuxFile.LStat(path);
        }
        catch (IOException ex)
        {
            throw new CredentialException($"{path}: cannot check the credential file: {ex.Message}", path, ex);
        }

        if (status is not { } before)
        {
            return null;
        }

        if (before.IsSymbolicLink)
        {
            throw new CredentialException(
                $"{path} is a symbolic link; symlinked credentials are refused: replace it with a regular file (mode 0600: chmod 600 {path})", path);
        }

        if (!before.IsRegularFile)
        {
            throw new CredentialException($"{path} is not a regular file; put the secret in a regular file (mode 0600: chmod 600 {path})", path);
        }

        if (checkOwnerAndMode)
        {
            Check(path, before);
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            // The path was checked above; make sure that what was opened is still that same file.
            if (!LinuxFile.FStat(stream.SafeFileHandle, path).SameFileAs(before))
            {
                throw new CredentialException($"{path} was replaced while being read; check who else writes to {Path.GetDirectoryName(path)}", path);
            }

            using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true));
            return reader.ReadToEnd();
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CredentialException(
                $"{path}: permission denied; it must belong to the user this process runs as (uid {LinuxProcess.EffectiveUid}) with mode 0600 (chmod 600 {path})", path, ex);
        }
        catch (Exception ex) when (ex is IOException or DecoderFallbackException)
        {
            throw new CredentialException($"{path}: cannot read the credential: {ex.Message}", path, ex);
        }
    }

    private static void Check(string path, FileStatus status)
    {
        if ((status.Permissions & 0x3F) != 0) // mode & 0077: any group or other bit
        {
            throw new CredentialException(
                $"{path} is accessible by group or others (mode {Convert.ToString(status.Permissions, 8).PadLeft(4, '0')}); " +
                $"secrets must be private to their owner: chmod 600 {path}", path);
        }

        var euid = LinuxProcess.EffectiveUid;
        if (status.Uid != euid)
        {
            throw new CredentialException(
                $"{path} is owned by uid {status.Uid}, not by the user this process runs as (uid {euid}); " +
                $"fix: chown {euid} {path} && chmod 600 {path}", path);
        }
    }

    private static string TrimNewline(string value) =>
        value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2]
        : value.EndsWith('\n') ? value[..^1]
        : value;

    private static void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!CredentialName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a credential name (letters, digits, '.', '_' and '-'; no path)", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CredentialName();
}
