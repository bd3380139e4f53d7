using System.Runtime.InteropServices;

namespace BoxBot.Install.Tests;

/// <summary>
/// Builds the bookworm root once per run (debootstrap, cached in out/install-test/base for local reruns), copies
/// it, installs the package's Debian dependencies while the host's network is there, and boots the copy.
/// </summary>
public static class InstallFixture
{
    /// <summary>
    /// The package's dependencies (Depends), plus what harden-os.sh works on (nftables, an SSH server, unattended
    /// upgrades) and python3-nacl (the test's stand-in device signs its NATS nonce with it); installed before the boot,
    /// while the host's network is there.
    /// </summary>
    private const string Packages = "adduser passwd python3 python3-venv python3-pip ca-certificates nats-server nftables openssh-server unattended-upgrades python3-nacl";

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string WorkDir => Path.Combine(RepoRoot, "out", "install-test");

    /// <summary>The package under test: $BOXBOT_DEB, else the one `make deb` made for this machine's architecture.</summary>
    public static string Deb()
    {
        if (Environment.GetEnvironmentVariable("BOXBOT_DEB") is { Length: > 0 } deb)
        {
            return Path.GetFullPath(deb);
        }
        var arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64";
        var found = Directory.Exists(Path.Combine(RepoRoot, "out", "deb"))
            ? Directory.GetFiles(Path.Combine(RepoRoot, "out", "deb"), $"boxbot_*_{arch}.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        return found ?? throw new AssertionException($"no out/deb/boxbot_*_{arch}.deb: run `make deb` (or `make install-test`, which does)");
    }

    /// <summary>A fresh, booted container with the dependencies installed and the package copied to /root.</summary>
    public static Container Start()
    {
        if (BoxBot.Install.Tests.Libc.geteuid() != 0)
        {
            Assert.Fail("the install test needs root (debootstrap, systemd-nspawn); CI runs it as root");
        }
        var deb = Deb();
        var baseRoot = BaseRoot();
        var root = Path.Combine(WorkDir, "box");
        Remove(root);
        var copy = Container.Host("cp", ["-a", baseRoot, root], TimeSpan.FromMinutes(5));
        Assert.That(copy.ExitCode, Is.Zero, copy.ToString());
        File.Copy(deb, Path.Combine(root, "root", "boxbot.deb"));
        var container = new Container(root);
        try
        {
            container.Boot(TimeSpan.FromMinutes(2));
        }
        catch
        {
            container.Dispose();
            throw;
        }
        return container;
    }

    /// <summary>The debootstrapped root with the dependencies installed, made once and kept for later runs.</summary>
    public static string BaseRoot()
    {
        var baseRoot = Path.Combine(WorkDir, "base");
        var marker = Path.Combine(baseRoot, ".boxbot-complete");
        var made = "debootstrap bookworm minbase + " + Packages + "\n";
        if (!File.Exists(marker) || File.ReadAllText(marker) != made)
        {
            Remove(baseRoot);
            Directory.CreateDirectory(WorkDir);
            var mirror = Environment.GetEnvironmentVariable("BOXBOT_DEBIAN_MIRROR") is { Length: > 0 } m ? m : "http://deb.debian.org/debian";
            var bootstrap = Container.Host("debootstrap", ["--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", baseRoot, mirror], TimeSpan.FromMinutes(10));
            Assert.That(bootstrap.ExitCode, Is.Zero, "debootstrap:\n" + bootstrap);
            var deps = new Container(baseRoot).Chroot(
                $"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {Packages} >/dev/null && apt-get clean",
                TimeSpan.FromMinutes(10));
            Assert.That(deps.ExitCode, Is.Zero, "installing the dependencies in the root:\n" + deps);
            File.WriteAllText(marker, made);
        }
        return baseRoot;
    }

    public static void Remove(string dir)
    {
        if (Directory.Exists(dir))
        {
            var r = Container.Host("rm", ["-rf", "--one-file-system", dir], TimeSpan.FromMinutes(5));
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "boxbot.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("boxbot.sln not found above " + AppContext.BaseDirectory);
    }
}

internal static partial class Libc
{
    [LibraryImport("libc")]
    internal static partial uint geteuid();
}
