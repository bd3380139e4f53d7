using System.Security.Cryptography;
using BoxBot.Config.Internal;
using BoxBot.Linux;

namespace BoxBot.Config;

/// <summary>Invents the secrets a development box can make up itself (<see cref="CredentialInfo.GeneratedForDevelopment"/>).</summary>
public static class DevCredentials
{
    /// <summary>
    /// Creates <paramref name="directory"/> (mode 0700) if missing and writes each missing generated credential as
    /// 32 random bytes in lowercase hex (mode 0600, atomically). Never overwrites. Returns the names it created.
    /// </summary>
    public static IReadOnlyList<string> EnsureGenerated(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("boxbot runs on Linux");
        }

        if (!Directory.Exists(directory))
        {
            const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(directory, OwnerOnly);
            File.SetUnixFileMode(directory, OwnerOnly); // exactly 0700, whatever the umask
        }

        var created = new List<string>();
        foreach (var credential in Credentials.All.Where(c => c.GeneratedForDevelopment))
        {
            var path = Path.Combine(directory, credential.Name);
            if (LinuxFile.LStat(path) is not null)
            {
                continue; // whatever is there (even a dangling symlink) is the developer's: never replace it
            }

            var value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            if (AtomicFile.Write(path, value, UnixFileMode.UserRead | UnixFileMode.UserWrite, overwrite: false))
            {
                created.Add(credential.Name);
            }
        }

        return created;
    }
}
