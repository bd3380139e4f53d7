using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using BoxBot.Plugins;

namespace BoxBot.Plugins.Tests;

/// <summary>Packing a plugin folder (the same files, the same digest) and checking a folder or a bundle as an install would.</summary>
public sealed class PluginBundleTests
{
    private string _dir = "";
    private string Plugin => Path.Combine(_dir, "hello-world");
    private string Scratch => Path.Combine(_dir, "scratch");

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("boxbot-bundle-").FullName;
        // The reference's examples/hello-world, as written.
        Directory.CreateDirectory(Plugin);
        File.WriteAllText(Path.Combine(Plugin, "manifest.json"), """
            {
              "id": "hello-world",
              "version": "0.1.0",
              "description": "Minimal hello-world plugin for testing load and invoke",
              "entry_point": "capability.py",
              "class_name": "HelloWorldCapability"
            }
            """);
        File.WriteAllText(Path.Combine(Plugin, "capability.py"), """
            from device_connect_edge.drivers.decorators import rpc


            class HelloWorldCapability:
                def __init__(self, device=None) -> None:
                    self.device = device

                @rpc()
                async def hello_world(self, name: str = "world") -> dict:
                    return {"message": f"Hello, {name}!"}
            """);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void The_same_files_pack_to_the_same_bytes_under_one_folder_named_by_the_id_without_caches()
    {
        Directory.CreateDirectory(Path.Combine(Plugin, "__pycache__"));
        File.WriteAllText(Path.Combine(Plugin, "__pycache__", "capability.cpython-311.pyc"), "cache");
        var first = PluginBundle.Pack(Plugin);
        File.SetLastWriteTimeUtc(Path.Combine(Plugin, "capability.py"), DateTime.UtcNow.AddDays(-3));
        File.SetUnixFileMode(Path.Combine(Plugin, "capability.py"), (UnixFileMode)0x1FF);
        Thread.Sleep(1100); // a second later: nothing of the moment of packing may reach the bytes

        var second = PluginBundle.Pack(Plugin);

        Assert.That(second, Is.EqualTo(first), "times and modes do not change the bundle");
        Assert.That(PluginBundle.Digest(second), Does.Match("^sha256:[0-9a-f]{64}$"));
        using var tar = new TarReader(new GZipStream(new MemoryStream(first), CompressionMode.Decompress));
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            names.Add($"{entry.Name} {Convert.ToString((int)entry.Mode, 8)} {entry.Uid}");
        }
        Assert.That(names, Is.EqualTo(new[] { "hello-world/capability.py 644 0", "hello-world/manifest.json 644 0" }));
    }

    [Test]
    public void A_folder_and_its_bundle_check_the_same_and_the_digest_matches_sha256sum()
    {
        var folder = PluginBundle.Check(Plugin, Scratch);
        var bundlePath = Path.Combine(_dir, "hello-world.tgz");
        File.WriteAllBytes(bundlePath, PluginBundle.Pack(Plugin));
        var bundle = PluginBundle.Check(bundlePath, Scratch);

        Assert.That(folder.Manifest.Id, Is.EqualTo("hello-world"));
        Assert.That(folder.Files, Is.EqualTo(2));
        Assert.That(folder.Warnings, Is.Empty);
        Assert.That(bundle.Digest, Is.EqualTo(folder.Digest));
        var sha = Process.Start(new ProcessStartInfo("sha256sum", [bundlePath]) { RedirectStandardOutput = true })!;
        var line = sha.StandardOutput.ReadToEnd();
        sha.WaitForExit();
        Assert.That(bundle.Digest, Is.EqualTo("sha256:" + line.Split(' ')[0]));
        Assert.That(Directory.GetFileSystemEntries(Scratch), Is.Empty, "the check leaves nothing behind");
    }

    [Test]
    public void A_missing_entry_point_is_refused_and_a_missing_class_or_rpc_is_a_warning()
    {
        File.WriteAllText(Path.Combine(Plugin, "capability.py"), "class Other:\n    pass\n");
        var check = PluginBundle.Check(Plugin, Scratch);
        Assert.That(check.Warnings, Has.Some.Contains("defines no class HelloWorldCapability"));
        Assert.That(check.Warnings, Has.Some.Contains("no @rpc() method"));

        File.Delete(Path.Combine(Plugin, "capability.py"));
        Assert.That(() => PluginBundle.Check(Plugin, Scratch), Throws.InstanceOf<PluginManifestException>().With.Message.Contains("entry_point capability.py is not in the plugin"));
        Assert.That(Directory.GetFileSystemEntries(Scratch), Is.Empty);
    }

    [Test]
    public void A_link_or_a_fifo_in_the_folder_is_refused_naming_it()
    {
        File.CreateSymbolicLink(Path.Combine(Plugin, "secrets"), "/etc/boxbot/credentials");
        Assert.That(() => PluginBundle.Pack(Plugin), Throws.InstanceOf<PluginArchiveException>().With.Property("Member").EqualTo("secrets"));

        File.Delete(Path.Combine(Plugin, "secrets"));
        Assert.That(Process.Start("mkfifo", [Path.Combine(Plugin, "pipe")])!.WaitForExit(5000), Is.True);
        Assert.That(() => PluginBundle.Pack(Plugin), Throws.InstanceOf<PluginArchiveException>().With.Property("Member").EqualTo("pipe"));
    }
}
