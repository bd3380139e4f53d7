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
            throw new PackageException("pip could not resolve the request: " + r.ErrorSummary());
        }
        if (!File.Exists(report))
        {
            throw new PackageException("pip wrote no report: " + r.ErrorSummary());
        }
        return PipReport.Parse(await File.ReadAllTextAsync(report, cancellationToken));
    }

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
