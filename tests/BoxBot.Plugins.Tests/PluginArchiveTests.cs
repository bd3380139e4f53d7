using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using BoxBot.Plugins;

namespace BoxBot.Plugins.Tests;

/// <summary>
/// Bundles built here, good and malicious, tar.gz and zip: the good ones unpack with their manifest found; each malicious
/// one is refused naming the member and why, with nothing left in staging and nothing written outside it.
/// </summary>
public sealed class PluginArchiveTests
{
    private const string Manifest = """{"id": "hello", "version": "1.0.0", "entry_point": "capability.py", "class_name": "Hello"}""";
    private string _dir = "";
    private string Staging => Path.Combine(_dir, "staging");
    private string Outside => Path.Combine(_dir, "outside");

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("boxbot-archive-").FullName;
        Directory.CreateDirectory(Outside);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A tar.gz of the entries <paramref name="add"/> writes.</summary>
    private static byte[] TarGz(Action<TarWriter> add)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            add(tar);
        }
        return buffer.ToArray();
    }

    private static void TarFile(TarWriter tar, string name, byte[] data, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = mode });
    }

    private static byte[] Zip(Action<ZipArchive> add)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            add(zip);
        }
        return buffer.ToArray();
    }

    private static void ZipFile(ZipArchive zip, string name, byte[] data, uint unixMode = 0x81A4)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.ExternalAttributes = (int)(unixMode << 16);
        using var s = entry.Open();
        s.Write(data);
    }

    private static byte[] Plugin(ArchiveFormat format, string prefix = "") => format == ArchiveFormat.Zip
        ? Zip(z =>
        {
            ZipFile(z, prefix + "manifest.json", Text(Manifest));
            ZipFile(z, prefix + "capability.py", Text("class Hello:\n    pass\n"));
            ZipFile(z, prefix + "lib/util.py", Text("X = 1\n"));
        })
        : TarGz(t =>
        {
            if (prefix.Length > 0)
            {
                t.WriteEntry(new PaxTarEntry(TarEntryType.Directory, prefix) { Mode = (UnixFileMode)0x1ED });
            }
            TarFile(t, prefix + "manifest.json", Text(Manifest));
            TarFile(t, prefix + "capability.py", Text("class Hello:\n    pass\n"));
            TarFile(t, prefix + "lib/util.py", Text("X = 1\n"));
        });

    [TestCase(ArchiveFormat.TarGz, "")]
    [TestCase(ArchiveFormat.TarGz, "hello-1.0.0/")]
    [TestCase(ArchiveFormat.Zip, "")]
    [TestCase(ArchiveFormat.Zip, "hello/")]
    public void A_plugin_unpacks_with_its_manifest_at_the_root_or_in_its_one_top_level_folder(ArchiveFormat format, string prefix)
    {
        var bundle = Plugin(format, prefix);

        var (staging, root) = PluginArchive.Extract(bundle, PluginArchive.Detect(null, bundle), Staging);

        Assert.That(File.ReadAllText(Path.Combine(root, "manifest.json")), Is.EqualTo(Manifest));
        Assert.That(File.ReadAllText(Path.Combine(root, "lib", "util.py")), Is.EqualTo("X = 1\n"));
        Assert.That(Path.GetDirectoryName(staging), Is.EqualTo(Staging));
        Assert.That(root, Is.EqualTo(prefix.Length == 0 ? staging : Path.Combine(staging, prefix.TrimEnd('/'))));
        Assert.That(File.GetUnixFileMode(Path.Combine(root, "capability.py")), Is.EqualTo((UnixFileMode)0x1A4), "0644 whatever the archive said");
    }

    [Test]
    public void The_format_comes_from_the_name_then_the_first_bytes()
    {
        Assert.That(PluginArchive.Detect("x.TGZ", []), Is.EqualTo(ArchiveFormat.TarGz));
        Assert.That(PluginArchive.Detect("x.tar.gz", "PK"u8), Is.EqualTo(ArchiveFormat.TarGz));
        Assert.That(PluginArchive.Detect("bundle", Plugin(ArchiveFormat.Zip)), Is.EqualTo(ArchiveFormat.Zip));
        Assert.That(PluginArchive.Detect(null, Plugin(ArchiveFormat.TarGz)), Is.EqualTo(ArchiveFormat.TarGz));
        Assert.That(() => PluginArchive.Detect("plugin.rar", "Rar!"u8), Throws.InstanceOf<PluginArchiveException>().With.Message.Contains("not a tar.gz or zip"));
    }

    private static IEnumerable<TestCaseData> Malicious()
    {
        byte[] WithManifest(Action<TarWriter> evil) => TarGz(t =>
        {
            TarFile(t, "manifest.json", Text(Manifest));
            evil(t);
        });
        byte[] ZipWithManifest(Action<ZipArchive> evil) => Zip(z =>
        {
            ZipFile(z, "manifest.json", Text(Manifest));
            evil(z);
        });
        yield return new TestCaseData(WithManifest(t => TarFile(t, "/etc/cron.d/evil", Text("x"))), "/etc/cron.d/evil", "an absolute path").SetName("tar: absolute path");
        yield return new TestCaseData(WithManifest(t => TarFile(t, "lib/../../outside/evil", Text("x"))), "lib/../../outside/evil", "'..'").SetName("tar: dot-dot");
        yield return new TestCaseData(WithManifest(t => t.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "lib") { LinkName = "../outside" })), "lib", "symbolic link").SetName("tar: symlink");
        yield return new TestCaseData(WithManifest(t =>
        {
            t.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "lib") { LinkName = "../outside" });
            TarFile(t, "lib/evil.py", Text("written through the link"));
        }), "lib", "symbolic link").SetName("tar: symlink then a file through it");
        yield return new TestCaseData(WithManifest(t => t.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "passwd") { LinkName = "/etc/passwd" })), "passwd", "hard link").SetName("tar: hardlink");
        yield return new TestCaseData(WithManifest(t => t.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "mem") { DeviceMajor = 1, DeviceMinor = 1 })), "mem", "a device").SetName("tar: device");
        yield return new TestCaseData(WithManifest(t => t.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "pipe"))), "pipe", "a FIFO").SetName("tar: fifo");
        yield return new TestCaseData(WithManifest(t => TarFile(t, "run", Text("x"), (UnixFileMode)0xDED)), "run", "setuid").SetName("tar: setuid");
        yield return new TestCaseData(WithManifest(t => TarFile(t, "MANIFEST.json", Text("{}"))), "MANIFEST.json", "twice").SetName("tar: case collision");
        yield return new TestCaseData(WithManifest(t => TarFile(t, "a\u0007b.py", Text("x"))), "a?b.py", "control character").SetName("tar: control character");
        yield return new TestCaseData(WithManifest(t => TarFile(t, string.Join('/', Enumerable.Range(0, 17).Select(i => "d" + i)) + "/x.py", Text("x"))),
            string.Join('/', Enumerable.Range(0, 17).Select(i => "d" + i)) + "/x.py", "deeper than 16").SetName("tar: depth");
        yield return new TestCaseData(WithManifest(t =>
        {
            for (var i = 0; i < 1000; i++)
            {
                TarFile(t, $"f{i}.py", []);
            }
        }), "f999.py", "more than 1000 entries").SetName("tar: too many entries");
        yield return new TestCaseData(WithManifest(t => TarFile(t, "zeros.bin", new byte[20 * 1024 * 1024])), "zeros.bin", "a bomb").SetName("tar.gz: bomb");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "../outside/evil", Text("x"))), "../outside/evil", "'..'").SetName("zip: dot-dot");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "/tmp/evil", Text("x"))), "/tmp/evil", "an absolute path").SetName("zip: absolute path");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "lib", Text("../outside"), 0xA1FF)), "lib", "symbolic link").SetName("zip: symlink");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "run", Text("x"), 0x89ED)), "run", "setuid").SetName("zip: setuid");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "manifest.json", Text("{}"))), "manifest.json", "twice").SetName("zip: duplicate");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "lib\\evil.py", Text("x"))), "lib\\evil.py", "backslash").SetName("zip: backslash");
        yield return new TestCaseData(ZipWithManifest(z => ZipFile(z, "zeros.bin", new byte[20 * 1024 * 1024])), "zeros.bin", "a bomb").SetName("zip: bomb");
        yield return new TestCaseData(Zip(z => ZipFile(z, "capability.py", Text("x"))), null, "no manifest.json").SetName("zip: no manifest");
        yield return new TestCaseData(TarGz(t =>
        {
            TarFile(t, "a/manifest.json", Text(Manifest));
            TarFile(t, "b/capability.py", Text("x"));
        }), null, "no manifest.json").SetName("tar: manifest in one of two folders");
        yield return new TestCaseData(Plugin(ArchiveFormat.TarGz)[..(Plugin(ArchiveFormat.TarGz).Length / 2)], null, "damaged").SetName("tar.gz: truncated");
    }

    [TestCaseSource(nameof(Malicious))]
    public void A_malicious_archive_is_refused_naming_the_member_and_leaves_nothing(byte[] bundle, string? member, string reason)
    {
        var e = Assert.Throws<PluginArchiveException>(() => PluginArchive.Extract(bundle, PluginArchive.Detect(null, bundle), Staging))!;

        Assert.That(e.Member, Is.EqualTo(member));
        Assert.That(e.Reason, Does.Contain(reason));
        Assert.That(Directory.GetFileSystemEntries(Staging), Is.Empty, "nothing left in staging");
        Assert.That(Directory.GetFileSystemEntries(Outside), Is.Empty, "nothing written outside");
    }

    [Test]
    public void Bytes_are_counted_as_they_are_written_not_taken_from_the_headers()
    {
        var random = RandomNumberGenerator.GetBytes(4096);
        var bundle = TarGz(t =>
        {
            TarFile(t, "manifest.json", Text(Manifest));
            TarFile(t, "a.bin", random);
            TarFile(t, "b.bin", random);
        });

        var e = Assert.Throws<PluginArchiveException>(() => PluginArchive.Extract(bundle, ArchiveFormat.TarGz, Staging, new ArchiveLimits { MaxExpandedBytes = 6000 }))!;

        Assert.That((e.Member, e.Reason), Is.EqualTo(("b.bin", "the archive expands to more than 6000 bytes")));
        Assert.That(Directory.GetFileSystemEntries(Staging), Is.Empty);
    }
}
