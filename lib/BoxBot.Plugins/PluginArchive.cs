using System.Formats.Tar;
using System.IO.Compression;

namespace BoxBot.Plugins;

/// <summary>The archive formats a plugin bundle may come in (the reference's: tar.gz/tgz and zip).</summary>
public enum ArchiveFormat
{
    TarGz,
    Zip,
}

/// <summary>An archive refused: <see cref="Member"/> names the entry at fault (null: the archive as a whole).</summary>
public sealed class PluginArchiveException(string? member, string reason)
    : Exception(member is null ? reason : $"{member}: {reason}")
{
    public string? Member { get; } = member;

    public string Reason { get; } = reason;
}

/// <summary>An unpacked bundle: <see cref="Staging"/>, the new folder it was unpacked into, and <see cref="Root"/>, the folder that holds <c>manifest.json</c>.</summary>
public sealed record ExtractedPlugin(string Staging, string Root);

/// <summary>What an archive may hold.</summary>
public sealed record ArchiveLimits
{
    public int MaxEntries { get; init; } = 1000;

    public long MaxExpandedBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Expanded bytes per archive byte, for the whole archive and (zip) for each entry.</summary>
    public int MaxRatio { get; init; } = 100;

    /// <summary>Path segments of the deepest entry.</summary>
    public int MaxDepth { get; init; } = 16;

    public static ArchiveLimits Default { get; } = new();
}

/// <summary>
/// Unpacks a plugin bundle into a fresh staging folder, refusing anything that could write outside it or stand for more
/// than it is: absolute paths, <c>..</c>, links, devices, FIFOs, setuid/setgid/sticky bits, too many entries, too many
/// bytes, bombs (a ratio over the limit), deep paths, duplicate or case-colliding names, control characters. Sizes are
/// counted while writing (headers are not trusted). A refused archive leaves nothing behind and names the member.
/// </summary>
public static class PluginArchive
{
    private const UnixFileMode SpecialBits = UnixFileMode.SetUser | UnixFileMode.SetGroup | UnixFileMode.StickyBit;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The format from the file name (<c>.zip</c>, <c>.tar.gz</c>, <c>.tgz</c>), else from the first bytes (<c>PK</c>, gzip's 1f 8b).</summary>
    public static ArchiveFormat Detect(string? name, ReadOnlySpan<byte> head)
    {
        var lower = name?.ToLowerInvariant() ?? "";
        if (lower.EndsWith(".zip", StringComparison.Ordinal))
        {
            return ArchiveFormat.Zip;
        }
        if (lower.EndsWith(".tar.gz", StringComparison.Ordinal) || lower.EndsWith(".tgz", StringComparison.Ordinal))
        {
            return ArchiveFormat.TarGz;
        }
        if (head.Length >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K')
        {
            return ArchiveFormat.Zip;
        }
        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return ArchiveFormat.TarGz;
        }
        throw new PluginArchiveException(null, "not a tar.gz or zip archive (by its name or its first bytes)");
    }

    /// <summary>
    /// Unpacks <paramref name="archive"/> into a new folder under <paramref name="stagingParent"/>, and finds the folder that
    /// holds <c>manifest.json</c> (the new folder, or its one top-level folder). On refusal the new folder is deleted.
    /// </summary>
    public static ExtractedPlugin Extract(ReadOnlyMemory<byte> archive, ArchiveFormat format, string stagingParent, ArchiveLimits? limits = null)
    {
        limits ??= ArchiveLimits.Default;
        Directory.CreateDirectory(stagingParent, PrivateDirectory);
        var staging = Directory.CreateDirectory(Path.Combine(stagingParent, "x-" + Guid.NewGuid().ToString("N")), PrivateDirectory).FullName;
        try
        {
            var writer = new StagingWriter(staging, limits, archive.Length);
            using var stream = new MemoryStream(archive.ToArray(), writable: false);
            if (format == ArchiveFormat.Zip)
            {
                ExtractZip(stream, writer, limits);
            }
            else
            {
                ExtractTarGz(stream, writer);
            }
            var root = writer.ManifestRoot();
            OpenModes(staging);
            return new ExtractedPlugin(staging, root);
        }
        catch (Exception e) when (e is PluginArchiveException or InvalidDataException or EndOfStreamException or FormatException or IOException)
        {
            Directory.Delete(staging, recursive: true);
            throw e is PluginArchiveException ? e : new PluginArchiveException(null, "the archive is damaged: " + e.Message);
        }
    }

    /// <summary>
    /// Readable by the confined plugin (which runs as another user): folders 0755, files 0644, set explicitly since a
    /// daemon's umask (0077) narrows the modes files are created with.
    /// </summary>
    private static void OpenModes(string staging)
    {
        File.SetUnixFileMode(staging, DirectoryMode);
        foreach (var entry in new DirectoryInfo(staging).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            entry.UnixFileMode = entry is DirectoryInfo ? DirectoryMode : FileMode;
        }
    }

    private static void ExtractZip(Stream stream, StagingWriter writer, ArchiveLimits limits)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
        foreach (var entry in zip.Entries)
        {
            writer.Count(entry.FullName);
            // Unix mode in the high 16 bits of the external attributes (when made on Unix); 0 otherwise.
            var unixMode = (uint)entry.ExternalAttributes >> 16;
            var type = unixMode & 0xF000;
            var isDirectory = entry.FullName.EndsWith('/');
            if (type != 0 && type != 0x8000 && !(isDirectory && type == 0x4000))
            {
                throw new PluginArchiveException(entry.FullName, type == 0xA000 ? "a symbolic link (links are refused)" : "not a regular file or folder");
            }
            if (((UnixFileMode)(unixMode & 0xFFF) & SpecialBits) != 0)
            {
                throw new PluginArchiveException(entry.FullName, "setuid, setgid or sticky bit");
            }
            if (isDirectory)
            {
                writer.Folder(entry.FullName);
                continue;
            }
            if (entry.CompressedLength > 0 && entry.Length / entry.CompressedLength > limits.MaxRatio)
            {
                throw new PluginArchiveException(entry.FullName, $"expands {entry.Length / entry.CompressedLength}-fold (more than {limits.MaxRatio}): a bomb");
            }
            using var content = entry.Open();
            writer.File(entry.FullName, content);
        }
    }

    private static void ExtractTarGz(Stream stream, StagingWriter writer)
    {
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry(copyData: false) is { } entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
            {
                continue;
            }
            writer.Count(entry.Name);
            if ((entry.Mode & SpecialBits) != 0)
            {
                throw new PluginArchiveException(entry.Name, "setuid, setgid or sticky bit");
            }
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    writer.Folder(entry.Name);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    writer.File(entry.Name, entry.DataStream ?? Stream.Null);
                    break;
                case TarEntryType.SymbolicLink:
                    throw new PluginArchiveException(entry.Name, $"a symbolic link to {entry.LinkName} (links are refused)");
                case TarEntryType.HardLink:
                    throw new PluginArchiveException(entry.Name, $"a hard link to {entry.LinkName} (links are refused)");
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                    throw new PluginArchiveException(entry.Name, "a device");
                case TarEntryType.Fifo:
                    throw new PluginArchiveException(entry.Name, "a FIFO");
                default:
                    throw new PluginArchiveException(entry.Name, $"an entry of type {entry.EntryType}, not a regular file or folder");
            }
        }
    }

    /// <summary>Writes checked entries under the staging folder, counting entries and bytes, remembering names.</summary>
    private sealed class StagingWriter(string root, ArchiveLimits limits, long archiveBytes)
    {
        private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _folders = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _files = [];
        private int _entries;
        private long _expanded;

        public void Count(string name)
        {
            if (++_entries > limits.MaxEntries)
            {
                throw new PluginArchiveException(name, $"more than {limits.MaxEntries} entries");
            }
        }

        public void Folder(string name)
        {
            var relative = Check(name);
            if (relative.Length == 0)
            {
                return;
            }
            if (_names.Contains(relative) || Ancestors(relative).Any(_names.Contains))
            {
                throw new PluginArchiveException(name, "a folder where the archive has a file of that name");
            }
            _folders.Add(relative);
            Directory.CreateDirectory(Full(relative), DirectoryMode);
        }

        public void File(string name, Stream content)
        {
            var relative = Check(name);
            if (relative.Length == 0)
            {
                throw new PluginArchiveException(name, "a file without a name");
            }
            if (!_names.Add(relative) || _folders.Contains(relative))
            {
                throw new PluginArchiveException(name, "appears twice (names are compared ignoring case)");
            }
            if (Ancestors(relative).Any(_names.Contains))
            {
                throw new PluginArchiveException(name, "inside a name the archive has as a file");
            }
            foreach (var folder in Ancestors(relative))
            {
                _folders.Add(folder);
            }
            if (Ancestors(relative).FirstOrDefault() is { } parent)
            {
                Directory.CreateDirectory(Full(parent), DirectoryMode);
            }
            var path = Full(relative);
            // CreateNew: never through anything already there (nothing can be: links are refused, names are unique).
            using var output = new FileStream(path, new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode });
            var buffer = new byte[81920];
            int read;
            while ((read = content.Read(buffer)) > 0)
            {
                _expanded += read;
                if (_expanded > limits.MaxExpandedBytes)
                {
                    throw new PluginArchiveException(name, $"the archive expands to more than {Size(limits.MaxExpandedBytes)}");
                }
                if (_expanded > Math.Max(archiveBytes, 1) * limits.MaxRatio)
                {
                    throw new PluginArchiveException(name, $"the archive expands more than {limits.MaxRatio}-fold: a bomb");
                }
                output.Write(buffer, 0, read);
            }
            _files.Add(relative);
        }

        /// <summary><c>manifest.json</c> at the root, or inside the one top-level folder that holds everything.</summary>
        public string ManifestRoot()
        {
            if (_files.Contains("manifest.json", StringComparer.Ordinal))
            {
                return root;
            }
            var tops = _files.Select(f => f.Split('/')[0]).Concat(_folders.Select(f => f.Split('/')[0])).Distinct(StringComparer.Ordinal).ToList();
            if (tops.Count == 1 && _files.Contains(tops[0] + "/manifest.json", StringComparer.Ordinal))
            {
                return Path.Combine(root, tops[0]);
            }
            throw new PluginArchiveException(null, "no manifest.json at the root or inside one top-level folder");
        }

        private string Full(string relative)
        {
            var full = Path.GetFullPath(Path.Combine(root, relative));
            // Containment by whole path segments, not a string prefix ("/staging-evil" is not inside "/staging").
            if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new PluginArchiveException(relative, "outside the archive's folder");
            }
            return full;
        }

        // The entry's name made relative ("a/b"), or a refusal naming why.
        private string Check(string name)
        {
            if (name.Any(c => c < 0x20 || c == 0x7f))
            {
                throw new PluginArchiveException(Printable(name), "a control character in the name");
            }
            if (name.Contains('\\', StringComparison.Ordinal))
            {
                throw new PluginArchiveException(name, "a backslash in the name");
            }
            if (name.StartsWith('/'))
            {
                throw new PluginArchiveException(name, "an absolute path");
            }
            var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
            if (segments.Contains(".."))
            {
                throw new PluginArchiveException(name, "a '..' in the path");
            }
            if (segments.Count > limits.MaxDepth)
            {
                throw new PluginArchiveException(name, $"deeper than {limits.MaxDepth} folders");
            }
            return string.Join('/', segments);
        }

        // "a/b/c" → "a/b", "a": the folders that hold it, nearest first.
        private static IEnumerable<string> Ancestors(string relative)
        {
            for (var cut = relative.LastIndexOf('/'); cut > 0; cut = relative.LastIndexOf('/', cut - 1))
            {
                yield return relative[..cut];
            }
        }

        private static string Size(long bytes) =>
            bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";

        private static string Printable(string name) => new([.. name.Select(c => c < 0x20 || c == 0x7f ? '?' : c)]);
    }
}
