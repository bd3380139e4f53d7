using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace BoxBot.Plugins;

/// <summary>A plugin checked as the box would install it: its manifest, its files, and its bundle (a folder packed) with its digest.</summary>
/// <param name="Warnings">What will not stop an install but may be a mistake.</param>
public sealed record PluginCheck(PluginManifest Manifest, int Files, long Bytes, byte[] Bundle, IReadOnlyList<string> Warnings)
{
    public string Digest => PluginBundle.Digest(Bundle);

    public long BundleBytes => Bundle.LongLength;
}

/// <summary>
/// Packs a plugin folder into a bundle (tar.gz, the plugin under one top-level folder named by its id, as the reference
/// packs it) that is the same bytes for the same files, and checks a folder or a bundle exactly as an install would: the
/// manifest, the entry point, and the archive rules of <see cref="PluginArchive"/>.
/// </summary>
public static partial class PluginBundle
{
    /// <summary>The largest bundle the box takes (the reference's cap).</summary>
    public const long MaxBundleBytes = 10L * 1024 * 1024;

    private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(0);

    /// <summary><c>sha256:</c> and the lower-case hex of the SHA-256 of <paramref name="bundle"/>.</summary>
    public static string Digest(ReadOnlySpan<byte> bundle) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bundle));

    /// <summary>Whether <paramref name="expected"/> (<c>sha256:HEX</c> or bare hex, any case) names <paramref name="digest"/>, as <see cref="Digest"/> writes it.</summary>
    public static bool DigestMatches(string digest, string expected) => PluginDownload.NormalizeDigest(expected) == digest["sha256:".Length..];

    /// <summary>
    /// The bundle of <paramref name="folder"/>. Only regular files and folders are packed (a link or a device is refused,
    /// naming it); <c>__pycache__</c> and <c>*.pyc</c> are left out; entries in name order, owner root, modes 0644/0755,
    /// times zero: the same files make the same bytes and the same digest.
    /// </summary>
    public static byte[] Pack(string folder)
    {
        var manifest = ReadManifest(Path.Combine(folder, "manifest.json"));
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var (relative, isDirectory) in Walk(folder, ""))
            {
                var name = manifest.Id + "/" + relative;
                if (isDirectory)
                {
                    tar.WriteEntry(Entry(TarEntryType.Directory, name + "/", (UnixFileMode)0x1ED));
                    continue;
                }
                var entry = Entry(TarEntryType.RegularFile, name, (UnixFileMode)0x1A4);
                using var content = File.OpenRead(Path.Combine(folder, relative));
                entry.DataStream = content;
                tar.WriteEntry(entry);
            }
        }
        var bundle = buffer.ToArray();
        return bundle.LongLength <= MaxBundleBytes ? bundle
            : throw new PluginArchiveException(null, $"the bundle is {bundle.LongLength} bytes, more than the {MaxBundleBytes / (1024 * 1024)} MiB a box takes");
    }

    /// <summary>Checks <paramref name="path"/>, a plugin folder (packed first) or a bundle, by unpacking it under <paramref name="scratch"/> (then removed).</summary>
    /// <exception cref="PluginArchiveException">The bundle breaks a rule.</exception>
    /// <exception cref="PluginManifestException">The manifest does.</exception>
    public static PluginCheck Check(string path, string scratch)
    {
        byte[] bundle;
        if (Directory.Exists(path))
        {
            bundle = Pack(path);
        }
        else
        {
            var size = new FileInfo(path).Length;
            if (size > MaxBundleBytes)
            {
                throw new PluginArchiveException(null, $"{path} is {size} bytes, more than the {MaxBundleBytes / (1024 * 1024)} MiB a box takes");
            }
            bundle = File.ReadAllBytes(path);
        }
        var (staging, root) = PluginArchive.Extract(bundle, PluginArchive.Detect(Path.GetFileName(path), bundle), scratch);
        try
        {
            var manifest = ReadManifest(Path.Combine(root, "manifest.json"));
            var entry = Path.Combine(root, manifest.EntryPoint);
            if (!File.Exists(entry))
            {
                throw new PluginManifestException($"manifest.json: entry_point {manifest.EntryPoint} is not in the plugin");
            }
            var warnings = new List<string>();
            var code = File.ReadAllText(entry);
            if (!Regex.IsMatch(code, $@"^class\s+{Regex.Escape(manifest.ClassName)}\b", RegexOptions.Multiline))
            {
                warnings.Add($"{manifest.EntryPoint} defines no class {manifest.ClassName} at its top level (the box imports it at install and will refuse it then)");
            }
            if (!RpcPattern().IsMatch(code))
            {
                warnings.Add($"{manifest.EntryPoint} has no @rpc() method: the plugin would offer no functions");
            }
            var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToList();
            return new PluginCheck(manifest, files.Count, files.Sum(f => new FileInfo(f).Length), bundle, warnings);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static PluginManifest ReadManifest(string path)
    {
        if (!File.Exists(path))
        {
            throw new PluginManifestException($"{Path.GetDirectoryName(path)}: no manifest.json");
        }
        return PluginManifest.Parse(File.ReadAllText(path), "manifest.json");
    }

    // GNU format: long names, and access and change times that are set here (a PAX entry adds today's atime and ctime).
    private static GnuTarEntry Entry(TarEntryType type, string name, UnixFileMode mode) => new(type, name)
    {
        Mode = mode,
        ModificationTime = Epoch,
        AccessTime = Epoch,
        ChangeTime = Epoch,
        Uid = 0,
        Gid = 0,
        UserName = "root",
        GroupName = "root",
    };

    // The folder's files and folders, depth first in ordinal name order; links and special files refused.
    private static IEnumerable<(string Relative, bool IsDirectory)> Walk(string root, string relative)
    {
        var here = Path.Combine(root, relative);
        foreach (var info in new DirectoryInfo(here).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var name = relative.Length == 0 ? info.Name : relative + "/" + info.Name;
            if (info.LinkTarget is not null)
            {
                throw new PluginArchiveException(name, $"a symbolic link to {info.LinkTarget} (a plugin holds only files and folders)");
            }
            if (info is DirectoryInfo)
            {
                if (info.Name == "__pycache__")
                {
                    continue;
                }
                yield return (name, true);
                foreach (var inner in Walk(root, name))
                {
                    yield return inner;
                }
            }
            else if (BoxBot.Linux.LinuxFile.LStat(info.FullName) is not { IsRegularFile: true })
            {
                throw new PluginArchiveException(name, "not a regular file (a plugin holds only files and folders)");
            }
            else if (!info.Name.EndsWith(".pyc", StringComparison.Ordinal))
            {
                yield return (name, false);
            }
        }
    }

    [GeneratedRegex(@"@rpc\s*\(")]
    private static partial Regex RpcPattern();
}
