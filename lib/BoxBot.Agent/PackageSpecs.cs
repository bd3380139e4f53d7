using System.Globalization;
using System.Text.RegularExpressions;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent;

/// <summary>
/// The rules for what a package request and a resolved package may contain. Everything here ends up on pip's
/// command line or in a requirements file, so the grammar is a small, strict subset of PEP 508/440: a name, then
/// optional version clauses, no spaces, extras, markers, URLs or paths, and nothing that starts with '-'. Violations
/// are <see cref="RpcException"/>s with InvalidParams.
/// </summary>
public static partial class PackageSpecs
{
    public const int MaxSpecs = 10;
    public const int MaxSpecLength = 100;
    public const int MaxReasonLength = 200;
    public const int MaxNameLength = 100;
    public const int MaxVersionLength = 64;

    /// <summary>Checks every spec (all problems at once) and returns them unchanged; duplicates of one project are refused.</summary>
    public static IReadOnlyList<string> Validate(IReadOnlyList<string>? specs)
    {
        if (specs is null || specs.Count == 0 || specs.Count > MaxSpecs)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"name 1 to {MaxSpecs} packages");
        }
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec is null || spec.Length > MaxSpecLength || !Spec().IsMatch(spec))
            {
                problems.Add($"'{Printable(spec)}' is not a package requirement: use NAME, NAME==VERSION or NAME>=A,<B " +
                    "(letters, digits, '.', '_', '-'; no spaces, extras, markers, URLs or options)");
            }
            else if (!seen.Add(Normalize(NamePart(spec))))
            {
                problems.Add($"'{spec}' names a package twice");
            }
        }
        return problems.Count == 0 ? specs : throw new RpcException(RpcErrorCodes.InvalidParams, string.Join("; ", problems));
    }

    /// <summary>Null or a trimmed single line of at most <see cref="MaxReasonLength"/> printable characters.</summary>
    public static string? ValidateReason(string? reason)
    {
        var trimmed = reason?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        // Format characters (bidi overrides, zero-width joiners) could make the text a person approves read differently.
        return trimmed.Length <= MaxReasonLength && !trimmed.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c)
                is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            ? trimmed
            : throw new RpcException(RpcErrorCodes.InvalidParams, $"the reason must be one line of at most {MaxReasonLength} printable characters");
    }

    /// <summary>A project name as PEP 508 allows it (ASCII letters and digits, inner '.', '_', '-').</summary>
    public static bool IsValidName(string? name) => name is { Length: > 0 and <= MaxNameLength } && Name().IsMatch(name);

    /// <summary>A concrete version as pip reports it: starts with a digit, then letters, digits and <c>. + ! _ -</c>.</summary>
    public static bool IsValidVersion(string? version) => version is { Length: > 0 and <= MaxVersionLength } && Version().IsMatch(version);

    /// <summary>Lower-case hex sha256.</summary>
    public static bool IsValidSha256(string? hex) => hex is { Length: 64 } && hex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>A wheel's file name: <c>name-version(-build)-python-abi-platform.whl</c> characters only.</summary>
    public static bool IsValidWheelFile(string? file) => file is { Length: > 4 and <= 255 } && WheelFile().IsMatch(file);

    /// <summary>PEP 503 normalization: lower case, runs of '-', '_' and '.' become one '-'.</summary>
    public static string Normalize(string name) => Separators().Replace(name, "-").ToLowerInvariant();

    private static string NamePart(string spec)
    {
        var end = spec.IndexOfAny(['=', '!', '<', '>', '~']);
        return end < 0 ? spec : spec[..end];
    }

    private static string Printable(string? text) =>
        text is null ? "null" : new string([.. text.Take(MaxSpecLength).Select(c => char.IsControl(c) ? '?' : c)]);

    // \z, not $: $ also matches before a final newline, which would let "name\n--index-url ..." through.
    [GeneratedRegex(@"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:(?:==|!=|<=|>=|~=|<|>)[0-9][A-Za-z0-9.*+!_-]*(?:,(?:==|!=|<=|>=|~=|<|>)[0-9][A-Za-z0-9.*+!_-]*)*)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Spec();

    [GeneratedRegex(@"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Name();

    [GeneratedRegex(@"^[0-9][A-Za-z0-9.+!_-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Version();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+!-]*\.whl\z", RegexOptions.CultureInvariant)]
    private static partial Regex WheelFile();

    [GeneratedRegex(@"[-_.]+", RegexOptions.CultureInvariant)]
    private static partial Regex Separators();
}
