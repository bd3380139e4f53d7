namespace BoxBot.Config.Tests;

/// <summary>[agent.llm]: the agent's language model, a table nested in [agent] with the same strict checking as the rest.</summary>
public class LlmConfigTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private ConfigException LoadFails(string toml, out string path)
    {
        path = _dir.Write("boxbot.toml", toml);
        var file = path;
        return Assert.Throws<ConfigException>(() => ConfigLoader.Load(file))!;
    }

    private static LlmOptions Parse(string toml) => ConfigLoader.Parse(toml, "t.toml").Config.Agent.Llm;

    [Test]
    public void By_default_no_model_is_configured_and_anthropic_prices_and_a_one_dollar_budget_apply()
    {
        var llm = LlmOptions.Default;

        Assert.That(llm, Is.EqualTo(new LlmOptions(LlmProvider.Anthropic, "", null, 1024, TimeSpan.FromSeconds(120), 3.0m, 15.0m, 1.0m, 20)));
        Assert.That(BoxBotConfig.Default.Agent.Llm, Is.SameAs(llm));
        Assert.That(Parse("[agent]\nsocket_group = \"\"\n"), Is.EqualTo(llm));
        Assert.That(LlmOptions.AnthropicBaseUrl, Is.EqualTo(new Uri("https://api.anthropic.com")));
    }

    [Test]
    public void Every_key_is_read_from_the_file()
    {
        var path = _dir.Write("boxbot.toml", """
            [agent]
            socket_group = "boxbot"
            [agent.llm]
            provider = "openai"
            model = "llama3.1:8b"
            base_url = "http://127.0.0.1:11434/v1"
            max_output_tokens = 4096
            timeout_s = 300
            input_price_per_mtok = 0.075
            output_price_per_mtok = 0.3
            daily_budget_usd = 2.5
            max_tool_turns = 8
            """);

        var agent = ConfigLoader.Load(path).Config.Agent;

        Assert.That(agent.SocketGroup, Is.EqualTo("boxbot"));
        Assert.That(agent.Llm, Is.EqualTo(new LlmOptions(LlmProvider.OpenAi, "llama3.1:8b", new Uri("http://127.0.0.1:11434/v1"), 4096,
            TimeSpan.FromSeconds(300), 0.075m, 0.3m, 2.5m, 8)));
    }

    [TestCase("[agent]\nllm.model = \"claude-sonnet-4-5\"\n")]
    [TestCase("[agent]\nllm = { model = \"claude-sonnet-4-5\" }\n")]
    [TestCase("agent.llm.model = \"claude-sonnet-4-5\"\n")]
    [TestCase("[agent.llm]\nmodel = \"claude-sonnet-4-5\"\n")]
    public void The_table_may_be_written_in_any_of_TOMLs_spellings(string toml)
    {
        Assert.That(Parse(toml).Model, Is.EqualTo("claude-sonnet-4-5"));
    }

    [Test]
    public void Whole_dollars_may_be_written_as_integers()
    {
        var llm = Parse("[agent.llm]\ninput_price_per_mtok = 3\noutput_price_per_mtok = 0\ndaily_budget_usd = 5\n");

        Assert.That((llm.InputPricePerMTok, llm.OutputPricePerMTok, llm.DailyBudgetUsd), Is.EqualTo((3m, 0m, 5m)));
    }

    [TestCase("https://api.anthropic.com")]
    [TestCase("https://openrouter.ai/api/v1")]
    [TestCase("http://127.0.0.1:8080")]
    [TestCase("http://localhost:11434")]
    [TestCase("http://[::1]:8080/v1")]
    public void An_https_endpoint_or_plain_http_to_loopback_is_accepted(string url)
    {
        Assert.That(Parse($"[agent.llm]\nprovider = \"openai\"\nbase_url = \"{url}\"\n").BaseUrl, Is.EqualTo(new Uri(url)));
    }

    [Test]
    public void An_unknown_key_in_the_nested_table_names_file_line_column_and_its_known_keys()
    {
        var ex = LoadFails("[agent.llm]\nmodel = \"x\"\nmodle = \"y\"\n", out var path);

        Assert.That(ex.Message, Is.EqualTo($"{path}:3:1: agent.llm.modle: unknown key (known keys in [agent.llm]: base_url, daily_budget_usd, " +
            "input_price_per_mtok, max_output_tokens, max_tool_turns, model, output_price_per_mtok, provider, timeout_s)"));
    }

    [Test]
    public void An_unknown_key_in_agent_points_at_the_nested_table_too()
    {
        var ex = LoadFails("[agent]\nmodel = \"x\"\n", out var path);

        Assert.That(ex.Message, Is.EqualTo($"{path}:2:1: agent.model: unknown key (known keys in [agent]: package_find_links, " +
            "package_index_url, socket_group; and the section [agent.llm])"));
    }

    [TestCase("[agent.lm]\nmodel = \"x\"\n", "1:1", "agent.lm: unknown key (known keys in [agent]:")]
    [TestCase("[agent.llm.extra]\nx = 1\n", "1:1", "agent.llm.extra: unknown key (known keys in [agent.llm]:")]
    [TestCase("[agent]\nllm.mdoel = \"x\"\n", "2:1", "agent.llm.mdoel: unknown key (known keys in [agent.llm]:")]
    [TestCase("[agent]\nllm = { model = \"x\", kind = 2 }\n", "2:22", "agent.llm.kind: unknown key")]
    [TestCase("[agent.llm.model]\nx = 1\n", "1:1", "agent.llm.model: expected a string, not a table")]
    [TestCase("[agent]\nllm = \"claude\"\n", "2:1", "agent.llm: must be a table [agent.llm], not a string")]
    [TestCase("[[agent.llm]]\nmodel = \"x\"\n", "1:1", "agent.llm: must be a single table [agent.llm], not an array of tables [[agent.llm]]")]
    [TestCase("[\"agent.llm\"]\nmodel = \"x\"\n", "1:1", "agent.llm: unknown section")]
    [TestCase("[agent.llm]\nmax_output_tokens = \"1024\"\n", "2:21", "agent.llm.max_output_tokens: expected an integer, not a string")]
    [TestCase("[agent.llm]\ndaily_budget_usd = \"1\"\n", "2:20", "agent.llm.daily_budget_usd: expected a float, not a string")]
    [TestCase("[agent.llm]\nmax_tool_turns = 2.5\n", "2:18", "agent.llm.max_tool_turns: expected an integer, not a float")]
    public void A_key_in_the_wrong_place_or_shape_is_an_error_with_its_location(string toml, string at, string expected)
    {
        var ex = LoadFails(toml, out var path);

        Assert.That(ex.Errors, Has.Count.EqualTo(1), ex.Message);
        Assert.That(ex.Message, Does.StartWith($"{path}:{at}: {expected}"));
    }

    [TestCase("provider", "\"claude\"", "must be one of anthropic, openai, got \"claude\"")]
    [TestCase("provider", "\"OpenAI\"", "must be one of anthropic, openai, got \"OpenAI\"")]
    [TestCase("model", "\"claude sonnet\"", "must be \"\" (no model: the agent holds no conversations) or a model name such as claude-sonnet-4-5, " +
        "without spaces, at most 200 characters, got \"claude sonnet\"")]
    [TestCase("base_url", "\"http://api.anthropic.com\"", "must use https:// (plain http:// only to a loopback address, for a local server such as " +
        "llama.cpp's or Ollama's), got \"http://api.anthropic.com\"")]
    [TestCase("base_url", "\"http://192.168.1.10:8080\"", "must use https:// (plain http:// only to a loopback address")]
    [TestCase("base_url", "\"api.anthropic.com\"", "must be \"\" (the provider's default) or an https:// URL such as https://api.anthropic.com, " +
        "got \"api.anthropic.com\"")]
    [TestCase("base_url", "\"https://api.anthropic.com/?beta=1\"", "must be \"\" (the provider's default) or an https:// URL")]
    [TestCase("base_url", "\"ftp://127.0.0.1\"", "must be \"\" (the provider's default) or an https:// URL")]
    [TestCase("max_output_tokens", "0", "must be between 1 and 64000, got 0")]
    [TestCase("max_output_tokens", "64001", "must be between 1 and 64000, got 64001")]
    [TestCase("timeout_s", "0", "must be between 1 and 600, got 0")]
    [TestCase("timeout_s", "601", "must be between 1 and 600, got 601")]
    [TestCase("input_price_per_mtok", "-0.5", "must be an amount of US dollars between 0 and 1000 (decimals allowed), got -0.5")]
    [TestCase("input_price_per_mtok", "nan", "must be an amount of US dollars between 0 and 1000 (decimals allowed), got NaN")]
    [TestCase("output_price_per_mtok", "1000.5", "must be an amount of US dollars between 0 and 1000 (decimals allowed), got 1000.5")]
    [TestCase("output_price_per_mtok", "inf", "must be an amount of US dollars between 0 and 1000 (decimals allowed), got Infinity")]
    [TestCase("daily_budget_usd", "-1", "must be an amount of US dollars between 0 and 10000 (decimals allowed) (0 allows no model calls at all), got -1")]
    [TestCase("daily_budget_usd", "10001.0", "must be an amount of US dollars between 0 and 10000 (decimals allowed) (0 allows no model calls at all), got 10001")]
    [TestCase("max_tool_turns", "0", "must be between 1 and 100, got 0")]
    [TestCase("max_tool_turns", "101", "must be between 1 and 100, got 101")]
    public void An_invalid_value_names_the_key_at_the_value(string key, string value, string message)
    {
        var ex = LoadFails($"# comment\n[agent.llm]\n{key} = {value}\n", out var path);

        Assert.That(ex.Errors, Has.Count.EqualTo(1), ex.Message);
        Assert.That(ex.Message, Does.StartWith($"{path}:3:{key.Length + 4}: agent.llm.{key}: {message}"));
    }

    [Test]
    public void An_endpoint_with_a_password_is_refused_without_echoing_it()
    {
        var ex = LoadFails("[agent.llm]\nbase_url = \"https://me:sk-secret@api.example.org\"\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:2:12: agent.llm.base_url: must not contain a user or password"));
        Assert.That(ex.Message, Does.Not.Contain("sk-secret"));
    }

    [Test]
    public void The_openai_provider_without_an_endpoint_is_an_error_at_the_provider_line()
    {
        var ex = LoadFails("[agent.llm]\nmodel = \"llama3.1:8b\"\nprovider = \"openai\"\n", out var path);

        Assert.That(ex.Message, Is.EqualTo($"{path}:3:12: agent.llm.base_url: must be set when provider = \"openai\" (there is no default " +
            "endpoint): for example \"http://127.0.0.1:8080\" for a local llama.cpp server"));
    }

    [Test]
    public void The_openai_provider_with_an_empty_endpoint_is_an_error_at_the_endpoint()
    {
        var ex = LoadFails("[agent.llm]\nprovider = \"openai\"\nbase_url = \"\"\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:3:12: agent.llm.base_url: must be set when provider = \"openai\""));
    }

    [Test]
    public void Errors_in_agent_and_its_nested_table_are_all_reported_in_file_order()
    {
        var ex = LoadFails("""
            [agent]
            socket_group = "Bad"
            [agent.llm]
            provider = "x"
            timeout_s = 0
            colour = "red"
            [box]
            log_level = "loud"
            """, out _);

        Assert.That(ex.Errors.Select(e => (e.Line, e.Key)), Is.EqualTo(new[]
        {
            (2, "agent.socket_group"), (4, "agent.llm.provider"), (5, "agent.llm.timeout_s"), (6, "agent.llm.colour"), (8, "box.log_level"),
        }));
    }
}
