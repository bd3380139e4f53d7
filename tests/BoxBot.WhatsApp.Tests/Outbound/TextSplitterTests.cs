using BoxBot.WhatsApp.Outbound;

namespace BoxBot.WhatsApp.Tests.Outbound;

public class TextSplitterTests
{
    [Test]
    public void Ten_thousand_characters_without_spaces_become_4096_4096_and_1808()
    {
        var text = Letters(10_000);

        var parts = TextSplitter.Split(text);

        Assert.That(parts.Select(p => p.Length), Is.EqualTo(new[] { 4096, 4096, 1808 }));
        Assert.That(string.Concat(parts), Is.EqualTo(text));
    }

    [TestCase(1)]
    [TestCase(4096)]
    public void A_text_within_the_limit_is_one_part(int length)
    {
        var text = Letters(length);

        Assert.That(TextSplitter.Split(text), Is.EqualTo(new[] { text }));
    }

    [Test]
    public void One_character_over_the_limit_makes_two_parts()
    {
        Assert.That(TextSplitter.Split(Letters(4097)).Select(p => p.Length), Is.EqualTo(new[] { 4096, 1 }));
    }

    [Test]
    public void A_part_ends_after_the_last_newline_near_the_limit_even_with_a_space_after_it()
    {
        var text = Letters(3950) + "\n" + Letters(100) + " " + Letters(1000);

        var parts = TextSplitter.Split(text);

        Assert.That(parts[0], Does.EndWith("\n").And.Length.EqualTo(3951));
        Assert.That(string.Concat(parts), Is.EqualTo(text));
    }

    [Test]
    public void Without_a_newline_a_part_ends_after_the_last_space_near_the_limit()
    {
        var text = Letters(4000) + " " + Letters(50) + "\t" + Letters(2000);

        var parts = TextSplitter.Split(text);

        Assert.That(parts[0], Does.EndWith("\t").And.Length.EqualTo(4052));
        Assert.That(parts[1], Is.EqualTo(Letters(2000)));
    }

    [Test]
    public void Whitespace_further_back_than_200_characters_is_not_used()
    {
        var text = Letters(3800) + "\n" + Letters(1000);

        var parts = TextSplitter.Split(text);

        Assert.That(parts[0], Has.Length.EqualTo(4096));
    }

    [Test]
    public void A_no_break_space_is_not_a_place_to_split()
    {
        var text = Letters(4050) + "\u00A0" + Letters(1000);

        Assert.That(TextSplitter.Split(text)[0], Has.Length.EqualTo(4096));
    }

    [TestCase(0)]
    [TestCase(1)]
    public void A_surrogate_pair_at_the_limit_stays_whole(int offset)
    {
        // "😀" is two UTF-16 code units; with the offset, one pair straddles character 4096.
        var text = Letters(offset + 1) + string.Concat(Enumerable.Repeat("😀", 5000));

        var parts = TextSplitter.Split(text);

        Assert.That(string.Concat(parts), Is.EqualTo(text));
        foreach (var part in parts)
        {
            Assert.That(part.Length, Is.LessThanOrEqualTo(4096));
            Assert.That(char.IsLowSurrogate(part[0]), Is.False, "a part starts with half a pair");
            Assert.That(char.IsHighSurrogate(part[^1]), Is.False, "a part ends with half a pair");
        }
    }

    [Test]
    public void An_emoji_with_a_skin_tone_is_not_split_from_its_modifier()
    {
        // 👍🏽 is four UTF-16 code units: a thumb and a skin-tone modifier, one character to a reader.
        var text = Letters(4094) + "👍🏽" + Letters(10);

        var parts = TextSplitter.Split(text);

        Assert.That(parts[0], Is.EqualTo(Letters(4094)));
        Assert.That(parts[1], Does.StartWith("👍🏽"));
    }

    [Test]
    public void One_character_longer_than_the_limit_is_cut_at_the_limit()
    {
        // A letter with 5000 combining marks is a single text element: it has to be cut somewhere.
        var text = "a" + new string('\u0301', 5000);

        var parts = TextSplitter.Split(text);

        Assert.That(parts.Select(p => p.Length), Is.EqualTo(new[] { 4096, 905 }));
    }

    private static string Letters(int count) => string.Create(count, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (char)('a' + i % 26);
        }
    });
}
