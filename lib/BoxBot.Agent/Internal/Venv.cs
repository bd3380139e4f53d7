using BoxBot.Contracts;

namespace BoxBot.Agent.Internal;

/// <summary>
/// The venv of approved packages (<see cref="BoxBot.Config.BoxPaths.SandboxVenv"/>), seen from the agent: made with
/// <c>python3 -m venv --without-pip</c>, written only by the system pip with <c>--target</c> its site-packages, read by
/// parsing dist-info METADATA as text. Nothing in it is ever executed by the agent.
/// </summary>
internal sealed class Venv(string root)
{
    private const int MaxMetadataBytes = 64 * 1024;

    public string Root => root;

    public string SitePackages(string pythonVersion) => Path.Combine(root, "lib", "python" + pythonVersion, "site-packages");

    public bool Exists => File.Exists(Path.Combine(root, "pyvenv.cfg"));

    /// <summary>Creates the venv when it is missing (an empty folder, e.g. made by packaging with the right owner, is fine).</summary>
    public async Task EnsureAsync(PythonTool python, string scratch, CancellationToken cancellationToken)
    {
        if (Exists)
        {
            return;
        }
        var parent = Path.GetDirectoryName(root)!;
        if (!Directory.Exists(parent))
        {
            throw new PackageException($"{parent} does not exist: the sandbox's state folder is made by boxbot-sandbox (or the package) before packages can be installed", RpcErrorCodes.Unavailable);
        }
        var r = await python.RunModuleAsync("venv", ["--without-pip", root], scratch, cancellationToken);
        if (r.ExitCode != 0 || !Exists)
        {
            throw new PackageException($"could not create the venv {root} (is python3-venv installed, and may the agent write there?): {r.ErrorSummary()}", RpcErrorCodes.Unavailable);
        }
    }

    /// <summary>Every <c>*.dist-info</c> in <paramref name="sitePackages"/> with a usable Name and Version, sorted by name.</summary>
    public static IReadOnlyList<InstalledPackage> Installed(string sitePackages)
    {
        if (!Directory.Exists(sitePackages))
        {
            return [];
        }
        var result = new List<InstalledPackage>();
        foreach (var dir in new DirectoryInfo(sitePackages).EnumerateDirectories("*.dist-info"))
        {
            if (!dir.Attributes.HasFlag(FileAttributes.ReparsePoint) && ReadMetadata(Path.Combine(dir.FullName, "METADATA")) is { } package)
            {
                result.Add(package);
            }
        }
        return [.. result.OrderBy(p => PackageSpecs.Normalize(p.Name), StringComparer.Ordinal).ThenBy(p => p.Version, StringComparer.Ordinal)];
    }

    /// <summary>
    /// <c>pip --target --upgrade</c> replaces a package's folders but leaves the old version's dist-info behind; remove
    /// the dist-info folders of other versions of the projects just installed.
    /// </summary>
    public static void RemoveStaleDistInfo(string sitePackages, IReadOnlyList<ResolvedPackage> installed)
    {
        var current = installed.ToDictionary(p => PackageSpecs.Normalize(p.Name), p => p.Version, StringComparer.Ordinal);
        foreach (var dir in new DirectoryInfo(sitePackages).EnumerateDirectories("*.dist-info"))
        {
            if (!dir.Attributes.HasFlag(FileAttributes.ReparsePoint)
                && ReadMetadata(Path.Combine(dir.FullName, "METADATA")) is { } p
                && current.TryGetValue(PackageSpecs.Normalize(p.Name), out var version)
                && p.Version != version)
            {
                dir.Delete(recursive: true);
            }
        }
    }

    /// <summary>
    /// Folders 0755, files 0644 (0755 when pip made them executable), no set-id or sticky bits, symlinks untouched and
    /// not followed: the sandbox user reads everything and writes nothing, whatever umask or zip modes said.
    /// </summary>
    public void NormalizeModes() => Normalize(new DirectoryInfo(root));

    private static void Normalize(DirectoryInfo dir)
    {
        const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode Executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        dir.UnixFileMode = Readable | Executable;
        foreach (var entry in dir.EnumerateFileSystemInfos())
        {
            if (entry.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                continue;
            }
            if (entry is DirectoryInfo sub)
            {
                Normalize(sub);
            }
            else
            {
                entry.UnixFileMode = (entry.UnixFileMode & Executable) != 0 ? Readable | Executable : Readable;
            }
        }
    }

    /// <summary>The Name and Version headers of a METADATA file (RFC 822 style, headers end at the first empty line).</summary>
    internal static InstalledPackage? ReadMetadata(string path)
    {
        string text;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            var buffer = new byte[MaxMetadataBytes];
            var n = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            text = System.Text.Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        string? name = null, version = null;
        foreach (var line in text.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            if (line.Length == 0)
            {
                break;
            }
            if (line.StartsWith("Name:", StringComparison.OrdinalIgnoreCase))
            {
                name ??= line[5..].Trim();
            }
            else if (line.StartsWith("Version:", StringComparison.OrdinalIgnoreCase))
            {
                version ??= line[8..].Trim();
            }
        }
        return PackageSpecs.IsValidName(name) && PackageSpecs.IsValidVersion(version) ? new InstalledPackage(name!, version!) : null;
    }
}
