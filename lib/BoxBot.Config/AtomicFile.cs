using System.Security.Cryptography;
using System.Text;
using BoxBot.Config.Internal;
using BoxBot.Linux;

namespace BoxBot.Config;

/// <summary>Crash-safe file writes: a reader sees the old contents or the new, never a torn or wide-open file.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="contents"/> (UTF-8, no BOM) to <paramref name="path"/>: a temporary file in the same
    /// folder is created with <paramref name="mode"/> from the start (no moment with wider permissions), written,
    /// fsynced, renamed over <paramref name="path"/>, and the folder is fsynced so the rename is durable.
    /// </summary>
    public static void WriteAllText(string path, string contents, UnixFileMode mode) =>
        Write(path, contents, mode, overwrite: true);

    /// <summary>Like <see cref="WriteAllText"/>; with <paramref name="overwrite"/> false an existing file is kept and false returned.</summary>
    public static bool Write(string path, string contents, UnixFileMode mode, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(contents);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("boxbot runs on Linux");
        }

        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent folder", nameof(path));
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            };
            using (var stream = new FileStream(temp, options))
            {
                // The umask may have taken bits away from UnixCreateMode; set exactly what was asked for.
                File.SetUnixFileMode(stream.SafeFileHandle, mode);
                stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(contents));
                stream.Flush(flushToDisk: true);
            }

            if (overwrite)
            {
                File.Move(temp, full, overwrite: true); // rename(2): atomic replace
            }
            else
            {
                try
                {
                    File.Move(temp, full, overwrite: false); // link(2) + unlink: fails if the target exists
                }
                catch (IOException) when (File.Exists(full) || Directory.Exists(full))
                {
                    return false;
                }
            }

            LinuxFile.SyncDirectory(directory);
            return true;
        }
        finally
        {
            File.Delete(temp); // no-op once renamed
        }
    }
}
