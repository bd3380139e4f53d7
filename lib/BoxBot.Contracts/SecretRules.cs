using System.Text;

namespace BoxBot.Contracts;

/// <summary>
/// The rules every holder of secrets applies (the agent's store, the sandbox's job check, the SDK,
/// the runner): one definition, so a name one of them accepts is never refused by another.
/// </summary>
public static class SecretRules
{
    /// <summary>For messages: the name rule as a pattern.</summary>
    public const string NamePattern = "^[A-Z][A-Z0-9_]{0,63}$";
    /// <summary>Most secrets the store holds, and a job may name.</summary>
    public const int MaxSecrets = 64;
    /// <summary>Longest value, in UTF-8 bytes.</summary>
    public const int MaxValueBytes = 8 * 1024;

    /// <summary><see cref="NamePattern"/>, checked by hand so no regex engine ever sees untrusted input.</summary>
    public static bool IsValidName(string? name)
    {
        if (name is null || name.Length is < 1 or > 64 || name[0] is < 'A' or > 'Z')
        {
            return false;
        }
        foreach (var c in name)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Not empty, at most <see cref="MaxValueBytes"/> of UTF-8, no NUL (values become environment variables).</summary>
    public static bool IsValidValue(string? value) =>
        !string.IsNullOrEmpty(value) && !value.Contains('\0', StringComparison.Ordinal) && Encoding.UTF8.GetByteCount(value) <= MaxValueBytes;
}
