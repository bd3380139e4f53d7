using System.Globalization;

namespace BoxBot.WhatsApp.Outbound;

/// <summary>
/// Splits a text into message bodies of at most <see cref="OutboundOptions.PartLimit"/> characters. Joined in order,
/// the parts are exactly the text: a part ends after the newline or space it was split at, so nothing is lost.
/// </summary>
public static class TextSplitter
{
    /// <summary>How far back from the limit a newline or space is looked for before cutting elsewhere.</summary>
    public const int LookBack = 200;

    /// <summary>
    /// The parts, in order. Preference for where a part ends: after the last newline within <see cref="LookBack"/>
    /// characters of the limit; else after the last whitespace there; else at the last boundary between user-perceived
    /// characters (an emoji with its modifiers stays whole); else, for one absurdly long character, at the limit but
    /// never between the two halves of a surrogate pair.
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int limit = OutboundOptions.PartLimit)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 2);
        var parts = new List<string>();
        var start = 0;
        while (text.Length - start > limit)
        {
            var length = PartLength(text.AsSpan(start), limit);
            parts.Add(text.Substring(start, length));
            start += length;
        }
        if (start < text.Length || parts.Count == 0)
        {
            parts.Add(text[start..]);
        }
        return parts;
    }

    // No-break spaces say "keep these together".
    private static bool IsBreakingSpace(char c) => char.IsWhiteSpace(c) && c is not ('\u00A0' or '\u2007' or '\u202F');

    /// <summary>The length of the next part of <paramref name="rest"/>, which is longer than <paramref name="limit"/>.</summary>
    private static int PartLength(ReadOnlySpan<char> rest, int limit)
    {
        var window = rest[..limit];
        var from = Math.Max(0, limit - LookBack);
        var newline = window[from..].LastIndexOf('\n');
        if (newline >= 0)
        {
            return from + newline + 1;
        }
        for (var i = limit - 1; i >= from; i--)
        {
            if (IsBreakingSpace(window[i]))
            {
                return i + 1;
            }
        }

        // No whitespace near the limit: end at the last text element (grapheme cluster) that fits.
        var end = 0;
        while (end < limit)
        {
            var next = StringInfo.GetNextTextElementLength(rest[end..]);
            if (end + next > limit)
            {
                break;
            }
            end += next;
        }
        if (end > 0)
        {
            return end;
        }

        // A single text element longer than the limit (thousands of combining marks): cut it, but keep surrogate pairs.
        return char.IsHighSurrogate(rest[limit - 1]) && char.IsLowSurrogate(rest[limit]) ? limit - 1 : limit;
    }
}
