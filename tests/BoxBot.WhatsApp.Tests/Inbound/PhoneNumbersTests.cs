namespace BoxBot.WhatsApp.Tests.Inbound;

/// <summary>Numbers become digits only; anything that is not plainly a number is refused rather than guessed at.</summary>
public class PhoneNumbersTests
{
    [TestCase("16505551234", "16505551234")]
    [TestCase("+16505551234", "16505551234")]
    [TestCase("+49 151 123", "49151123")]
    [TestCase("+1 (650) 555-1234", "16505551234")]
    [TestCase("49.151.2345678", "491512345678")]
    [TestCase("1", "1")]
    [TestCase("12345678901234567890", "12345678901234567890")]
    public void A_number_with_plus_and_separators_becomes_its_digits(string text, string digits) =>
        Assert.That(PhoneNumbers.Normalize(text), Is.EqualTo(digits));

    [TestCase(null)]
    [TestCase("")]
    [TestCase(" ")]
    [TestCase("+")]
    [TestCase("++1650")]
    [TestCase("1+650")]
    [TestCase("123456789012345678901")]
    [TestCase("1650555123x")]
    [TestCase("tel:16505551234")]
    [TestCase("1650\n5551234")]
    [TestCase("1650\t5551234")]
    [TestCase("1650/5551234")]
    [TestCase("\u0661\u0666\u0665\u0660")]
    [TestCase("\uff11\uff16\uff15\uff10")]
    [TestCase("1650\u00a05551234")]
    public void Anything_else_is_not_a_number(string? text) =>
        Assert.That(PhoneNumbers.Normalize(text), Is.Null);

    [TestCase("+49 151 123", "49151123")]
    [TestCase("+49 151 2345678", "491512345678")]
    [TestCase("1234567", "1234567")]
    [TestCase("+123 456 789 012 345", "123456789012345")]
    public void An_international_number_has_7_to_15_digits(string text, string digits) =>
        Assert.That(PhoneNumbers.NormalizeInternational(text), Is.EqualTo(digits));

    [TestCase("123456")]
    [TestCase("1234567890123456")]
    [TestCase("0049 151 2345678")]
    [TestCase("0151 2345678")]
    [TestCase("+49 151 23x")]
    [TestCase("")]
    [TestCase(null)]
    public void A_short_long_national_or_malformed_number_is_not_international(string? text) =>
        Assert.That(PhoneNumbers.NormalizeInternational(text), Is.Null);
}
