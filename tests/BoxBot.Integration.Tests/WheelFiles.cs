using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace BoxBot.Integration.Tests;

/// <summary>
/// Package files built by hand, so the package tests need neither PyPI (unreachable here) nor python3-wheel or
/// setuptools (which CI machines may lack): a wheel is a zip with a dist-info folder (METADATA, WHEEL, RECORD).
/// </summary>
internal static class WheelFiles
{
    /// <summary>Writes <c>name-version-py3-none-any.whl</c> into <paramref name="folder"/> and returns its path.</summary>
    public static string Wheel(string folder, string name, string version, IReadOnlyDictionary<string, string> files, params string[] requires)
    {
        var distInfo = $"{name}-{version}.dist-info";
        var entries = new List<(string Path, byte[] Bytes)>();
        entries.AddRange(files.Select(f => (f.Key, Encoding.UTF8.GetBytes(f.Value))));
        var metadata = new StringBuilder($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        foreach (var r in requires)
        {
            metadata.Append("Requires-Dist: ").Append(r).Append('\n');
        }
        entries.Add(($"{distInfo}/METADATA", Encoding.UTF8.GetBytes(metadata.ToString())));
        entries.Add(($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: boxbot-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")));
        var record = new StringBuilder();
        foreach (var (path, bytes) in entries)
        {
            var hash = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append(System.Globalization.CultureInfo.InvariantCulture, $"{path},sha256={hash},{bytes.Length}\n");
        }
        record.Append(System.Globalization.CultureInfo.InvariantCulture, $"{distInfo}/RECORD,,\n");
        entries.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));

        var file = Path.Combine(folder, $"{name}-{version}-py3-none-any.whl");
        File.Delete(file);
        using var zip = ZipFile.Open(file, ZipArchiveMode.Create);
        foreach (var (path, bytes) in entries)
        {
            using var stream = zip.CreateEntry(path).Open();
            stream.Write(bytes);
        }
        return file;
    }

    /// <summary>
    /// A source distribution whose in-tree build backend writes <paramref name="marker"/> as soon as pip imports it
    /// (pip imports it to ask for build requirements, even for a dry run): proof of whether package code ran.
    /// </summary>
    public static string SdistRunningCodeAtBuild(string folder, string name, string version, string marker)
    {
        var root = $"{name}-{version}";
        var files = new Dictionary<string, string>
        {
            [$"{root}/PKG-INFO"] = $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            [$"{root}/pyproject.toml"] = "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
            [$"{root}/backend.py"] = $"open({System.Text.Json.JsonSerializer.Serialize(marker)}, 'w').write('package code ran')\n" +
                "def get_requires_for_build_wheel(config_settings=None):\n    return []\n",
            [$"{root}/setup.py"] = $"open({System.Text.Json.JsonSerializer.Serialize(marker)}, 'w').write('package code ran')\n",
        };
        var file = Path.Combine(folder, $"{root}.tar.gz");
        using var gzip = new GZipStream(File.Create(file), CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (path, text) in files)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path)
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                Mode = (UnixFileMode)0b110_100_100,
            });
        }
        return file;
    }

    public static string Sha256Of(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
}
