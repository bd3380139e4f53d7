using System.Globalization;
using BoxBot.Config;

namespace BoxBot.Agent.Llm;

/// <summary>
/// What model calls cost, in micro-dollars (millionths of a US dollar), from token counts and the prices in
/// <c>[agent.llm]</c>. Whole numbers so that a day's spending can be summed and stored exactly.
/// </summary>
/// <remarks>
/// A price per million tokens in dollars is exactly a price per token in micro-dollars, so a cost is
/// <c>tokens × price</c> with no scaling. Fractions of a micro-dollar are rounded up, once per call: the budget may
/// count a call a micro-dollar high, never low.
/// </remarks>
public static class LlmPrices
{
    /// <summary>Micro-dollars per dollar.</summary>
    public const long MicroUsdPerUsd = 1_000_000;

    /// <summary>The cost of one call with <paramref name="inputTokens"/> in and <paramref name="outputTokens"/> out.</summary>
    /// <param name="inputPricePerMTok">USD per million input tokens (≥ 0).</param>
    /// <param name="outputPricePerMTok">USD per million output tokens (≥ 0).</param>
    public static long CostMicroUsd(long inputTokens, long outputTokens, decimal inputPricePerMTok, decimal outputPricePerMTok)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(inputPricePerMTok);
        ArgumentOutOfRangeException.ThrowIfNegative(outputPricePerMTok);
        return Saturate(Math.Ceiling((inputTokens * inputPricePerMTok) + (outputTokens * outputPricePerMTok)));
    }

    /// <summary>The cost of a call at the configured prices.</summary>
    public static long CostMicroUsd(LlmOptions options, long inputTokens, long outputTokens)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CostMicroUsd(inputTokens, outputTokens, options.InputPricePerMTok, options.OutputPricePerMTok);
    }

    /// <summary>The cost of <paramref name="response"/> at the configured prices.</summary>
    public static long CostMicroUsd(LlmOptions options, LlmResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return CostMicroUsd(options, response.InputTokens, response.OutputTokens);
    }

    /// <summary><c>daily_budget_usd</c> in micro-dollars; 0 means no calls at all.</summary>
    public static long DailyBudgetMicroUsd(LlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ToMicroUsd(options.DailyBudgetUsd);
    }

    /// <summary>Dollars to micro-dollars, rounded down: like costs rounded up, rounding never makes a budget larger.</summary>
    public static long ToMicroUsd(decimal usd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(usd);
        return Saturate(Math.Floor(usd * MicroUsdPerUsd));
    }

    /// <summary>For people: <c>$0.0123</c> (at least two decimals, at most six).</summary>
    public static string FormatUsd(long microUsd) =>
        "$" + (microUsd / (decimal)MicroUsdPerUsd).ToString("0.00####", CultureInfo.InvariantCulture);

    private static long Saturate(decimal value) => value >= long.MaxValue ? long.MaxValue : (long)value;
}
