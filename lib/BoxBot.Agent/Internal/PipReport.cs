using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Agent.Internal;

/// <summary>
/// Reads the JSON report of <c>pip install --dry-run --report</c> (format version 1, pip 22.2+) into the exact set an
/// approval installs. The report is treated as untrusted: names and versions come from wheel metadata that whoever
/// runs the index wrote, and they end up in a requirements file, so each field is checked against
/// <see cref="PackageSpecs"/>; an item that is not a wheel or has no sha256 is refused, whatever pip's flags were.
/// </summary>
internal static class PipReport
{
    public const int MaxPackages = 64;

    /// <exception cref="PackageException">The report is malformed or names something that may not be installed.</exception>
    public static IReadOnlyList<ResolvedPackage> Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new PackageException("pip's report is not valid JSON: " + e.Message);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("install", out var install)
                || install.ValueKind != JsonValueKind.Array)
            {
                throw new PackageException("pip's report has no \"install\" list");
            }
            if (install.GetArrayLength() == 0)
            {
                throw new PackageException("pip resolved nothing to install");
            }
            if (install.GetArrayLength() > MaxPackages)
            {
                throw new PackageException($"the request resolves to {install.GetArrayLength()} packages; at most {MaxPackages} may be approved at once", RpcErrorCodes.Refused);
            }
            var result = new List<ResolvedPackage>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in install.EnumerateArray())
            {
                var package = Item(item);
                if (!names.Add(PackageSpecs.Normalize(package.Name)))
                {
                    throw new PackageException($"pip's report names {package.Name} twice");
                }
                result.Add(package);
            }
            return result;
        }
    }

    private static ResolvedPackage Item(JsonElement item)
    {
        var name = String(item, "metadata", "name");
        var version = String(item, "metadata", "version");
        if (!PackageSpecs.IsValidName(name) || !PackageSpecs.IsValidVersion(version))
        {
            throw new PackageException($"pip's report has a package with an unusable name or version ('{Clip(name)}' '{Clip(version)}')");
        }
        if (Bool(item, "is_direct"))
        {
            throw new PackageException($"{name} {version} would come from a direct URL, not the configured index or folder", RpcErrorCodes.Refused);
        }
        var url = String(item, "download_info", "url") ?? "";
        var file = WheelFileName(url);
        if (file is null)
        {
            throw new PackageException($"{name} {version} is not available as a wheel (only wheels are installed: building from source would run the package's code)", RpcErrorCodes.Refused);
        }
        var sha256 = Sha256(item);
        if (sha256 is null)
        {
            throw new PackageException($"{name} {version}: pip reported no sha256 for {file}, so the install could not be pinned to it", RpcErrorCodes.Refused);
        }
        return new ResolvedPackage
        {
            Name = name!,
            Version = version!,
            Sha256 = sha256,
            File = file,
            Requested = Bool(item, "requested"),
        };
    }

    /// <summary>The last path segment of an http(s) or file URL when it is a wheel file name, else null.</summary>
    private static string? WheelFileName(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http" or "file"))
        {
            return null;
        }
        var segment = uri.Segments.Length == 0 ? "" : Uri.UnescapeDataString(uri.Segments[^1]);
        return PackageSpecs.IsValidWheelFile(segment) ? segment : null;
    }

    /// <summary><c>archive_info.hashes.sha256</c> (pip 23.1+) or <c>archive_info.hash</c> = <c>sha256=...</c> (22.2+).</summary>
    private static string? Sha256(JsonElement item)
    {
        var fromHashes = String(item, "download_info", "archive_info", "hashes", "sha256")?.ToLowerInvariant();
        if (PackageSpecs.IsValidSha256(fromHashes))
        {
            return fromHashes;
        }
        var hash = String(item, "download_info", "archive_info", "hash");
        var fromHash = hash is not null && hash.StartsWith("sha256=", StringComparison.Ordinal) ? hash["sha256=".Length..].ToLowerInvariant() : null;
        return PackageSpecs.IsValidSha256(fromHash) ? fromHash : null;
    }

    private static string? String(JsonElement e, params string[] path)
    {
        foreach (var key in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out e))
            {
                return null;
            }
        }
        return e.ValueKind == JsonValueKind.String ? e.GetString() : null;
    }

    private static bool Bool(JsonElement e, string key) =>
        e.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.True;

    private static string Clip(string? text) =>
        text is null ? "" : new string([.. text.Take(40).Select(c => char.IsControl(c) ? '?' : c)]);
}
