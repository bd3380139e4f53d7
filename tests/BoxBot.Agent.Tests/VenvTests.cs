using BoxBot.Agent.Internal;

namespace BoxBot.Agent.Tests;

/// <summary>The agent reads the venv as text and leaves it readable, never writable, for the sandbox user.</summary>
public class VenvTests
{
    private const UnixFileMode Dir = (UnixFileMode)0b111_101_101;
    private const UnixFileMode File644 = (UnixFileMode)0b110_100_100;
    private TempFolder _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempFolder();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void Modes_are_normalized_so_others_may_read_but_never_write_and_no_setid_bit_survives()
    {
        var root = Directory.CreateDirectory(_dir.File("venv")).FullName;
        var pkg = Directory.CreateDirectory(Path.Combine(root, "lib", "python3.11", "site-packages", "pkg")).FullName;
        File.WriteAllText(Path.Combine(pkg, "__init__.py"), "");
        File.WriteAllText(Path.Combine(pkg, "tool"), "");
        File.WriteAllText(Path.Combine(pkg, "private.py"), "");
        File.SetUnixFileMode(pkg, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
        File.SetUnixFileMode(Path.Combine(pkg, "__init__.py"), (UnixFileMode)0b110_110_110 | UnixFileMode.SetUser);
        File.SetUnixFileMode(Path.Combine(pkg, "tool"), (UnixFileMode)0b111_000_000 | UnixFileMode.SetGroup);
        File.SetUnixFileMode(Path.Combine(pkg, "private.py"), (UnixFileMode)0b110_000_000);

        new Venv(root).NormalizeModes();

        Assert.That(File.GetUnixFileMode(pkg), Is.EqualTo(Dir));
        Assert.That(File.GetUnixFileMode(Path.Combine(pkg, "__init__.py")), Is.EqualTo(File644));
        Assert.That(File.GetUnixFileMode(Path.Combine(pkg, "tool")), Is.EqualTo(Dir));
        Assert.That(File.GetUnixFileMode(Path.Combine(pkg, "private.py")), Is.EqualTo(File644));
        Assert.That(File.GetUnixFileMode(root), Is.EqualTo(Dir));
    }

    [Test]
    public void Symlinks_in_the_venv_are_not_followed_when_modes_are_set()
    {
        var root = Directory.CreateDirectory(_dir.File("venv")).FullName;
        var outside = _dir.File("outside-secret");
        File.WriteAllText(outside, "x");
        File.SetUnixFileMode(outside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var outsideDir = Directory.CreateDirectory(_dir.File("outside-dir")).FullName;
        File.SetUnixFileMode(outsideDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        Directory.CreateSymbolicLink(Path.Combine(root, "lib64"), outsideDir);

        new Venv(root).NormalizeModes();

        Assert.That(File.GetUnixFileMode(outside), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.GetUnixFileMode(outsideDir), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    [Test]
    public void Installed_packages_come_from_dist_info_metadata_and_unusable_ones_are_skipped()
    {
        var site = Directory.CreateDirectory(_dir.File("site")).FullName;
        DistInfo(site, "demo_pkg-1.0", "Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\n\nName: ignored-body\n");
        DistInfo(site, "Alpha-2.0", "Metadata-Version: 2.1\r\nName: Alpha\r\nVersion: 2.0\r\n");
        DistInfo(site, "evil-1", "Name: evil\n--index-url\nVersion: 1 --pre\n");
        Directory.CreateDirectory(Path.Combine(site, "broken-1.dist-info"));

        var installed = Venv.Installed(site);

        Assert.That(installed.Select(p => (p.Name, p.Version)), Is.EqualTo(new[] { ("Alpha", "2.0"), ("demo_pkg", "1.0") }));
        Assert.That(Venv.Installed(_dir.File("missing")), Is.Empty);
    }

    [Test]
    public void After_an_upgrade_the_old_versions_dist_info_is_removed_and_other_projects_are_left_alone()
    {
        var site = Directory.CreateDirectory(_dir.File("site")).FullName;
        DistInfo(site, "demo_pkg-1.0", "Name: demo_pkg\nVersion: 1.0\n");
        DistInfo(site, "demo_pkg-2.0", "Name: demo-pkg\nVersion: 2.0\n");
        DistInfo(site, "other-1.0", "Name: other\nVersion: 1.0\n");

        Venv.RemoveStaleDistInfo(site, [Packages.Wheel("demo_pkg", "2.0")]);

        Assert.That(Venv.Installed(site).Select(p => $"{p.Name} {p.Version}"), Is.EqualTo(new[] { "demo-pkg 2.0", "other 1.0" }));
    }

    private static void DistInfo(string site, string folder, string metadata)
    {
        var dir = Directory.CreateDirectory(Path.Combine(site, folder + ".dist-info")).FullName;
        File.WriteAllText(Path.Combine(dir, "METADATA"), metadata);
    }
}
