namespace BoxBot.WhatsApp;

/// <summary>
/// WhatsApp numbers as the box stores them: ASCII digits only, country code first, no <c>+</c>
/// (the form of <c>wa_id</c>, <c>from</c> and <c>recipient_id</c> in Meta's payloads).
/// </summary>
public static class PhoneNumbers
{
    /// <summary>Most digits accepted from a webhook payload (E.164 allows 15; WhatsApp ids have stayed below 20).</summary>
    public const int MaxDigits = 20;

    /// <summary>Fewest digits of a number typed by a person: a country code and a subscriber number.</summary>
    public const int MinInternationalDigits = 7;

    /// <summary>Most digits of a number typed by a person (E.164).</summary>
    public const int MaxInternationalDigits = 15;

    /// <summary>
    /// The digits of <paramref name="text"/>, or null when it is not a number: one optional leading <c>+</c>,
    /// then ASCII digits with spaces, <c>-</c>, <c>.</c>, <c>(</c> and <c>)</c> as separators (dropped), and
    /// 1 to <see cref="MaxDigits"/> digits in all. Letters, other symbols and non-ASCII digits make it null.
    /// </summary>
    public static string? Normalize(string? text) => Digits(text, 1, MaxDigits);

    /// <summary>
    /// Like <see cref="Normalize"/> for a number a person typed in international form ("+49 151 2345678"):
    /// 7 to 15 digits, and not starting with 0 (a country code never does; "0049..." or "0151..." is the
    /// dialling form of a country, not a WhatsApp number). Null otherwise.
    /// </summary>
    public static string? NormalizeInternational(string? text) =>
        Digits(text, MinInternationalDigits, MaxInternationalDigits) is { } digits && digits[0] != '0' ? digits : null;

    private static string? Digits(string? text, int min, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        Span<char> digits = stackalloc char[MaxDigits];
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                if (count == max)
                {
                    return null;
                }
                digits[count++] = c;
            }
            else if (!(c is ' ' or '-' or '.' or '(' or ')' || (c == '+' && i == 0)))
            {
                return null;
            }
        }

        return count >= min ? new string(digits[..count]) : null;
    }
}
