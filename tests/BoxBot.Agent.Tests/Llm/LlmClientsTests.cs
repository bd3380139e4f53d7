using BoxBot.Agent.Llm;
using BoxBot.Config;
using static BoxBot.Agent.Tests.Llm.LlmTestSupport;

namespace BoxBot.Agent.Tests.Llm;

/// <summary>The factory (configured or not, and why) and the accounting of what calls cost.</summary>
public class LlmClientsTests
{
    private static readonly LlmOptions Anthropic = LlmOptions.Default with { Model = "claude-sonnet-4-5" };
    private static readonly LlmOptions Local = LlmOptions.Default with
    {
        Provider = LlmProvider.OpenAi,
        Model = "qwen2.5-7b-instruct",
        BaseUrl = new Uri("http://127.0.0.1:8080"),
    };

    [Test]
    public void The_default_options_are_not_configured_because_there_is_no_model()
    {
        Assert.That(LlmClients.NotConfiguredReason(LlmOptions.Default, Key), Is.EqualTo("no model in [agent.llm]"));
        Assert.That(LlmClients.Create(LlmOptions.Default, Key), Is.Null);
    }

    [TestCase(null)]
    [TestCase("")]
    public void Anthropic_without_a_key_is_not_configured(string? key)
    {
        Assert.That(LlmClients.NotConfiguredReason(Anthropic, key), Is.EqualTo("no API key: the credential llm-api-key is missing or empty"));
        Assert.That(LlmClients.Create(Anthropic, key), Is.Null);
    }

    [Test]
    public void A_key_that_cannot_go_in_a_header_is_not_configured_and_not_quoted()
    {
        var reason = LlmClients.NotConfiguredReason(Anthropic, "sk-ant bad");

        Assert.That(reason, Does.StartWith("the credential llm-api-key holds a space, a line break or a non-ASCII character"));
        Assert.That(reason, Does.Not.Contain("sk-ant"));
        Assert.That(LlmClients.Create(Anthropic, "sk-ant bad"), Is.Null);
    }

    [Test]
    public void Openai_without_a_base_url_is_not_configured()
    {
        Assert.That(LlmClients.NotConfiguredReason(Local with { BaseUrl = null }, null), Is.EqualTo("provider openai needs base_url in [agent.llm]"));
    }

    [Test]
    public void Anthropic_with_a_model_and_a_key_gives_an_anthropic_client()
    {
        using var client = (AnthropicClient)LlmClients.Create(Anthropic, Key)!;

        Assert.That(LlmClients.NotConfiguredReason(Anthropic, Key), Is.Null);
        Assert.That(client.Describe, Is.EqualTo("anthropic claude-sonnet-4-5"));
        Assert.That(client.Endpoint, Is.EqualTo(new Uri("https://api.anthropic.com/v1/messages")));
    }

    [TestCase(null)]
    [TestCase(Key)]
    public void A_local_openai_endpoint_needs_no_key(string? key)
    {
        using var client = (OpenAiClient)LlmClients.Create(Local, key)!;

        Assert.That(LlmClients.NotConfiguredReason(Local, key), Is.Null);
        Assert.That(client.Describe, Is.EqualTo("openai qwen2.5-7b-instruct"));
        Assert.That(client.Endpoint, Is.EqualTo(new Uri("http://127.0.0.1:8080/v1/chat/completions")));
    }

    [Test]
    public async Task The_factorys_handler_carries_the_calls()
    {
        using var server = FakeLlmServer.Start(FakeLlmWire.Anthropic);
        server.ThenText("via the handler");
        using var handler = new CountingHandler();
        using var client = (AnthropicClient)LlmClients.Create(server.Options(), Key, handler)!;

        var response = await client.CompleteAsync(Hello(), CancellationToken.None);

        Assert.That(response.Content, Is.EqualTo(new LlmBlock[] { new LlmText("via the handler") }));
        Assert.That(handler.Calls, Is.EqualTo(1));
    }

    [TestCase(1_000_000, 0, 3.0, 15.0, 3_000_000)]
    [TestCase(0, 1_000_000, 3.0, 15.0, 15_000_000)]
    [TestCase(1234, 567, 3.0, 15.0, 3702 + 8505)]
    [TestCase(1000, 1000, 0.075, 0.3, 75 + 300)]
    [TestCase(1, 0, 0.075, 0.3, 1)]
    [TestCase(3, 1, 0.1, 0.2, 1)]
    [TestCase(0, 0, 3.0, 15.0, 0)]
    [TestCase(5000, 5000, 0.0, 0.0, 0)]
    public void A_calls_cost_is_tokens_times_price_per_million_in_micro_dollars_rounded_up(long input, long output, double inPrice, double outPrice, long expected)
    {
        Assert.That(LlmPrices.CostMicroUsd(input, output, (decimal)inPrice, (decimal)outPrice), Is.EqualTo(expected));
    }

    [Test]
    public void Costs_use_the_configured_prices_and_the_budget_is_in_micro_dollars()
    {
        var options = LlmOptions.Default with { InputPricePerMTok = 0.8m, OutputPricePerMTok = 4m, DailyBudgetUsd = 2.5m };
        var response = new LlmResponse { Content = [], StopReason = LlmResponse.EndTurn, InputTokens = 10_000, OutputTokens = 500 };

        Assert.That(LlmPrices.CostMicroUsd(options, response), Is.EqualTo(8000 + 2000));
        Assert.That(LlmPrices.CostMicroUsd(options, 10_000, 500), Is.EqualTo(10_000));
        Assert.That(LlmPrices.DailyBudgetMicroUsd(options), Is.EqualTo(2_500_000));
        Assert.That(LlmPrices.DailyBudgetMicroUsd(LlmOptions.Default), Is.EqualTo(1_000_000));
        Assert.That(LlmPrices.DailyBudgetMicroUsd(options with { DailyBudgetUsd = 0m }), Is.Zero);
    }

    [Test]
    public void Rounding_never_enlarges_a_budget_and_huge_counts_saturate()
    {
        Assert.That(LlmPrices.ToMicroUsd(0.0000019m), Is.EqualTo(1));
        Assert.That(LlmPrices.CostMicroUsd(long.MaxValue, long.MaxValue, 1000m, 1000m), Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void Negative_tokens_or_prices_are_caller_bugs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LlmPrices.CostMicroUsd(-1, 0, 1m, 1m));
        Assert.Throws<ArgumentOutOfRangeException>(() => LlmPrices.CostMicroUsd(0, 0, -1m, 1m));
        Assert.Throws<ArgumentOutOfRangeException>(() => LlmPrices.ToMicroUsd(-0.01m));
    }

    [TestCase(0, "$0.00")]
    [TestCase(1, "$0.000001")]
    [TestCase(12_345, "$0.012345")]
    [TestCase(1_500_000, "$1.50")]
    [TestCase(25_000_000, "$25.00")]
    public void Costs_are_formatted_for_people(long micro, string expected)
    {
        Assert.That(LlmPrices.FormatUsd(micro), Is.EqualTo(expected));
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        public CountingHandler() : base(new SocketsHttpHandler()) { }

        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
