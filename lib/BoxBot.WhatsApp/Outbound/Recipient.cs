namespace BoxBot.WhatsApp.Outbound;

/// <summary>A recipient number as the Cloud API's <c>to</c> wants it: E.164 digits without the plus.</summary>
internal static class Recipient
{
    /// <summary>
    /// The number as digits only: a leading <c>+</c> and the spaces, dashes, dots and parentheses people write
    /// numbers with are dropped; what remains must be 7 to 15 digits that do not start with 0 (the country code comes first).
    /// </summary>
    /// <exception cref="InvalidOutboundMessageException">Anything else, with what was given and what is expected.</exception>
    public static string Normalize(string number)
    {
        ArgumentNullException.ThrowIfNull(number);
        var trimmed = number.Trim();
        return PhoneNumbers.NormalizeInternational(trimmed) ?? throw Invalid(number, Why(trimmed));
    }

    // Only to explain a refusal: PhoneNumbers decides.
    private static string Why(string number)
    {
        var digits = number.Where(char.IsAsciiDigit).ToArray();
        return digits switch
        {
            _ when number.Where((c, i) => !char.IsAsciiDigit(c) && !(c is ' ' or '-' or '.' or '(' or ')' || (c == '+' && i == 0))).Any() =>
                "only digits are allowed (and + at the start, spaces, dashes, dots, parentheses)",
            { Length: < PhoneNumbers.MinInternationalDigits } => "fewer than 7 digits",
            { Length: > PhoneNumbers.MaxInternationalDigits } => "more than 15 digits",
            _ => "it starts with 0: write the country code first, without 00 or a trunk 0",
        };
    }

    private static InvalidOutboundMessageException Invalid(string number, string why) =>
        new($"recipient \"{Printable(number)}\" is not a phone number in international form ({why}); " +
            "expected the country code and number, digits only, such as 4915112345678");

    // The number comes from the caller: keep a control character or a screenful of text out of the message and the log.
    private static string Printable(string s)
    {
        var shown = s.Length > 40 ? s[..40] + "..." : s;
        return string.Create(shown.Length, shown, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
