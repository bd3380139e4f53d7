using BoxBot.Agent.Llm;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>The key is cut out of every message; a short key does not mangle the words around it.</summary>
public class LlmScrubTests
{
    private const string LongKey = "sk-ant-api03-0123456789abcdef";

    [TestCase("invalid x-api-key: test", "test", "invalid x-api-key: [llm-api-key]")]
    [TestCase("\"test\" and 'test' and test.", "test", "\"[llm-api-key]\" and '[llm-api-key]' and [llm-api-key].")]
    [TestCase("the latest test-suite protests", "test", "the latest test-suite protests")]
    [TestCase("check the credential", "k", "check the credential")]
    [TestCase("key=" + LongKey, LongKey, "key=[llm-api-key]")]
    [TestCase("abc" + LongKey + "XYZ", LongKey, "abc[llm-api-key]XYZ")]
    [TestCase(LongKey + LongKey, LongKey, "[llm-api-key][llm-api-key]")]
    [TestCase("nothing here", LongKey, "nothing here")]
    public void The_key_is_replaced_where_it_could_be_an_echo(string message, string key, string expected)
    {
        Assert.That(LlmHttp.Scrub(message, key), Is.EqualTo(expected));
    }
}
