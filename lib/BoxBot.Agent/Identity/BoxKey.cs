using System.Security.Cryptography;
using BoxBot.Config;

namespace BoxBot.Agent.Identity;

/// <summary>
/// The box key that registration codes are stored under (as HMAC-SHA256): 32 random bytes in <c>identity.key</c>, mode
/// 0600, beside the secret store and outside the database, so a copy of <c>boxbot.db</c> alone does not give away a live
/// code (six digits are a million guesses away from any unkeyed hash).
/// </summary>
public static class BoxKey
{
    public const string FileName = "identity.key";
    private const int KeyBytes = 32;
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Reads the key in <paramref name="stateDir"/>, creating it on first use.</summary>
    /// <exception cref="IOException">The file is readable by others, or not a key.</exception>
    public static byte[] LoadOrCreate(string stateDir)
    {
        var path = Path.Combine(stateDir, FileName);
        // Created with its final mode from the start; false when it exists (or another start made it first).
        AtomicFile.Write(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)) + "\n", Private, overwrite: false);
        var mode = File.GetUnixFileMode(path);
        if ((mode & ~Private) != 0)
        {
            throw new IOException($"{path} is readable by others (mode {Convert.ToString((int)mode, 8)}): run chmod 600 {path}");
        }
        byte[] key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            throw new IOException($"{path} is not a box key (base64 of {KeyBytes} bytes); move it away to make a new one (codes issued under it stop working)");
        }
        return key.Length == KeyBytes
            ? key
            : throw new IOException($"{path} holds {key.Length} bytes, not {KeyBytes}; move it away to make a new one (codes issued under it stop working)");
    }
}
