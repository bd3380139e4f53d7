using System.Text;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Agent.Internal;

/// <summary>
/// The two pip commands the agent runs, both wheels only (<c>--only-binary=:all:</c>: no setup.py or build backend,
/// so no package code runs while resolving or installing) and both against exactly the configured index and folder.
/// </summary>
internal sealed class Pip(PythonTool python, Uri? indexUrl, string findLinks)
{
    /// <summary>
    /// <c>pip install --dry-run --ignore-installed --report</c>: every distribution the specs would install,
    /// dependencies included, with the sha256 of the exact file. Nothing is installed.
    /// </summary>
    public async Task<IReadOnlyList<ResolvedPackage>> ResolveAsync(IReadOnlyList<string> specs, string scratch, CancellationToken cancellationToken)
    {
        var report = Path.Combine(scratch, "report.json");
        // --ignore-installed: resolve the full set, not only what the system's own dist-packages lacks.
        // "--" ends the options, although a valid spec never starts with '-' anyway.
        var r = await python.RunModuleAsync("pip",
            [.. Common(), "--dry-run", "--ignore-installed", "--quiet", "--report", report, .. Sources(), "--", .. specs],
            scratch, cancellationToken);
        if (r.ExitCode != 0)
        {
            // "from versions: none" hides why: only source distributions, or no wheel for this machine. pip says which
            // only when asked to talk, so it is asked again, only on this path.
            if (r.Stderr.Contains("(from versions: none)", StringComparison.Ordinal)
                && !r.Stderr.Contains("WARNING: Retrying", StringComparison.Ordinal)
                && await WhyNoVersionAsync(specs, scratch, cancellationToken) is { } why)
            {
                throw new PackageException(why, RpcErrorCodes.Refused);
            }
            throw new PackageException("pip could not resolve the request: " + r.ErrorSummary());
        }
        if (!File.Exists(report))
        {
            throw new PackageException("pip wrote no report: " + r.ErrorSummary());
        }
        return PipReport.Parse(await File.ReadAllTextAsync(report, cancellationToken));
    }

    /// <summary>
    /// pip's own reasons for passing over every file it found ("Skipping link: ..." at -vv), turned into a sentence: a
    /// package that exists only as a source distribution, or only as wheels for other machines. Null when pip gave none.
    /// </summary>
    private async Task<string?> WhyNoVersionAsync(IReadOnlyList<string> specs, string scratch, CancellationToken cancellationToken)
    {
        // --report as in ResolveAsync: pip checks a Debian python3 for PEP 668 ("externally managed") except for a dry run with a report.
        var r = await python.RunModuleAsync("pip",
            [.. Common(), "--dry-run", "--ignore-installed", "-vv", "--report", Path.Combine(scratch, "why.json"), .. Sources(), "--", .. specs],
            scratch, cancellationToken);
        var sources = new List<string>();
        var otherMachines = new List<string>();
        // Only files of the projects asked for: pip passes over every other file in the folder or index page too.
        var wanted = specs.Select(spec => PackageSpecs.Normalize(new string([.. spec.TakeWhile(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')])))
            .ToHashSet(StringComparer.Ordinal);
        // pip logs at -vv on stdout; its warnings and errors go to stderr.
        foreach (var line in (r.Stdout + "\n" + r.Stderr).Split('\n'))
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith("Skipping link: ", StringComparison.Ordinal))
            {
                continue;
            }
            var file = Uri.TryCreate(trimmed[(trimmed.LastIndexOf(' ') + 1)..], UriKind.Absolute, out var url)
                ? Path.GetFileName(url.AbsolutePath) : trimmed[(trimmed.LastIndexOf(' ') + 1)..];
            var project = file.IndexOf('-', StringComparison.Ordinal) is > 0 and var dash ? PackageSpecs.Normalize(file[..dash]) : "";
            if (!wanted.Contains(project))
            {
                continue;
            }
            if (trimmed.Contains("No sources permitted", StringComparison.Ordinal))
            {
                sources.Add(file);
            }
            else if (trimmed.Contains("none of the wheel's tags", StringComparison.Ordinal))
            {
                otherMachines.Add(file);
            }
        }
        if (sources.Count == 0 && otherMachines.Count == 0)
        {
            return null;
        }
        var parts = new List<string>();
        if (sources.Count > 0)
        {
            parts.Add($"only source distributions were found ({Few(sources)}), and those are refused: building one runs the package's own code " +
                      "at install, outside any sandbox. Ask for a version that is published as a wheel");
        }
        if (otherMachines.Count > 0)
        {
            parts.Add($"the wheels found are built for other machines or Python versions ({Few(otherMachines)})");
        }
        return $"no installable wheel for {string.Join(' ', specs)}: " + string.Join("; ", parts);
    }

    private static string Few(List<string> files) =>
        string.Join(", ", files.Distinct(StringComparer.Ordinal).Take(3)) + (files.Distinct(StringComparer.Ordinal).Count() > 3 ? ", ..." : "");

    /// <summary>
    /// Installs exactly <paramref name="packages"/> into <paramref name="sitePackages"/>: one <c>name==version
    /// --hash=sha256:...</c> line each, <c>--require-hashes --no-deps</c>, so a file that changed since it was
    /// approved is refused and nothing else comes along.
    /// </summary>
    public async Task InstallAsync(IReadOnlyList<ResolvedPackage> packages, string sitePackages, string scratch, CancellationToken cancellationToken)
    {
        var requirements = Path.Combine(scratch, "requirements.txt");
        AtomicFile.WriteAllText(requirements, RequirementsFile(packages), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = await python.RunModuleAsync("pip",
            [.. Common(), "--target", sitePackages, "--upgrade", "--no-deps", "--require-hashes", "--no-warn-script-location",
                .. Sources(), "--requirement", requirements],
            scratch, cancellationToken);
        if (r.ExitCode != 0)
        {
            var summary = r.ErrorSummary();
            throw new PackageException(summary.Contains("DO NOT MATCH THE HASHES", StringComparison.Ordinal)
                ? "hash mismatch: a file pip found is not the one that was approved (it changed after the request); nothing was installed. pip: " + summary
                : "pip could not install the approved set: " + summary);
        }
    }

    /// <summary>The requirements file; every field was checked against <see cref="PackageSpecs"/> (no spaces, no newlines, no '-' first).</summary>
    internal static string RequirementsFile(IReadOnlyList<ResolvedPackage> packages)
    {
        var text = new StringBuilder();
        foreach (var p in packages)
        {
            if (!PackageSpecs.IsValidName(p.Name) || !PackageSpecs.IsValidVersion(p.Version) || !PackageSpecs.IsValidSha256(p.Sha256))
            {
                throw new PackageException($"refusing to write a requirement for '{p.Name}' '{p.Version}': not a plain name, version and sha256");
            }
            text.Append(p.Name).Append("==").Append(p.Version).Append(" --hash=sha256:").Append(p.Sha256).Append('\n');
        }
        return text.ToString();
    }

    private static string[] Common() =>
    [
        "install", "--only-binary=:all:", "--no-cache-dir", "--no-input", "--disable-pip-version-check",
        "--root-user-action=ignore", "--no-color", "--progress-bar=off",
        // pip's five retries with back-off keep an admin waiting 8 s for an index that cannot be reached; two say as much.
        "--retries", "2",
    ];

    private string[] Sources()
    {
        var args = new List<string>();
        if (indexUrl is null)
        {
            args.Add("--no-index");
        }
        else
        {
            args.Add("--index-url");
            args.Add(indexUrl.AbsoluteUri);
        }
        if (findLinks.Length > 0)
        {
            args.Add("--find-links");
            args.Add(findLinks);
        }
        return [.. args];
    }
}
