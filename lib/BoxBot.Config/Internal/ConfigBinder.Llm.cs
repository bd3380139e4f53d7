using System.Globalization;
using System.Text.RegularExpressions;

namespace BoxBot.Config.Internal;

/// <summary>[agent.llm]: the agent's language model.</summary>
internal sealed partial class ConfigBinder
{
    private LlmOptions Llm(LlmSection s)
    {
        var provider = Provider("agent.llm.provider", s.Provider);
        var baseUrl = s.BaseUrl.Length == 0
            ? null
            : Url("agent.llm.base_url", s.BaseUrl, "\"\" (the provider's default) or an https:// URL such as https://api.anthropic.com",
                "a local server such as llama.cpp's or Ollama's");
        Known("agent.llm.base_url");
        if (provider == LlmProvider.OpenAi && s.BaseUrl.Length == 0)
        {
            // Nothing to point at when the key is absent: the provider line is what made it necessary.
            Fail("agent.llm.base_url", valueAt.ContainsKey("agent.llm.base_url") ? "agent.llm.base_url" : "agent.llm.provider",
                "must be set when provider = \"openai\" (there is no default endpoint): for example \"http://127.0.0.1:8080\" for a local llama.cpp server");
        }

        return new LlmOptions(
            provider,
            Pattern("agent.llm.model", s.Model, ModelName(), "\"\" (no model: the agent holds no conversations) or a model name such as " +
                "claude-sonnet-4-5, without spaces, at most 200 characters", allowEmpty: true),
            baseUrl,
            Int("agent.llm.max_output_tokens", s.MaxOutputTokens, 1, 64_000),
            TimeSpan.FromSeconds(Int("agent.llm.timeout_s", s.TimeoutS, 1, 600)),
            Dollars("agent.llm.input_price_per_mtok", s.InputPricePerMTok, 1000),
            Dollars("agent.llm.output_price_per_mtok", s.OutputPricePerMTok, 1000),
            Dollars("agent.llm.daily_budget_usd", s.DailyBudgetUsd, 10_000, " (0 allows no model calls at all)"),
            Int("agent.llm.max_tool_turns", s.MaxToolTurns, 1, 100));
    }

    private LlmProvider Provider(string key, string value)
    {
        Known(key);
        foreach (var provider in Enum.GetValues<LlmProvider>())
        {
            if (Format(provider) == value)
            {
                return provider;
            }
        }

        Fail(key, $"must be one of {string.Join(", ", Enum.GetValues<LlmProvider>().Select(Format))}, got \"{value}\"");
        return LlmOptions.Default.Provider;
    }

    // Money as decimal: the budget adds up many small costs, and binary fractions would drift. A TOML float has about
    // 15 significant digits, which the conversion keeps.
    private decimal Dollars(string key, double value, int max, string hint = "")
    {
        Known(key);
        if (!double.IsFinite(value) || value < 0 || value > max)
        {
            Fail(key, $"must be an amount of US dollars between 0 and {max} (decimals allowed){hint}, got {value.ToString("R", CultureInfo.InvariantCulture)}");
            return 0;
        }

        return (decimal)value;
    }

    // Visible ASCII: "claude-sonnet-4-5", Ollama's "llama3.1:8b", a Hugging Face "org/model", a llama.cpp file name.
    [GeneratedRegex("^[\\x21-\\x7e]{1,200}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ModelName();
}
