using System.Globalization;
using System.Text;

namespace BoxBot.Agent.Identity;

/// <summary>
/// Display names are untrusted: a WhatsApp profile name is whatever its owner typed, and an admin's rename is typed in
/// a shell. Cleaned once, where they enter the registry, so every place that shows one shows the same safe text.
/// </summary>
public static class DisplayNames
{
    /// <summary>Longest name kept, in UTF-16 code units (never cutting a character in two).</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// Drops control characters, format characters (bidi overrides and isolates, zero-width characters, soft hyphens),
    /// line and paragraph separators, private-use and unassigned code points and broken surrogates; folds any run of
    /// white space into one space; trims; and cuts at <see cref="MaxLength"/>.
    /// </summary>
    public static string Clean(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return "";
        }
        var text = new StringBuilder(Math.Min(raw.Length, MaxLength));
        var space = false;
        foreach (var rune in raw.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                space = text.Length > 0;
                continue;
            }
            if (rune == Rune.ReplacementChar || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
            {
                continue;
            }
            if (text.Length + (space ? 1 : 0) + rune.Utf16SequenceLength > MaxLength)
            {
                break;
            }
            if (space)
            {
                text.Append(' ');
                space = false;
            }
            text.Append(rune.ToString());
        }
        return text.ToString();
    }
}
