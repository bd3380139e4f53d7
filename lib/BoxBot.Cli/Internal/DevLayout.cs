using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Cli.Internal;

/// <summary>Prepares a development tree: folders with the installed layout's modes, a config, credentials.</summary>
internal static class DevLayout
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupReadable = Private | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    public const string DefaultConfig =
        "# boxbot development configuration, written by `boxbot dev up`.\n" +
        "# Every key, its default and its range: packaging/boxbot.example.toml. Check with `boxbot config check`.\n" +
        "# Secrets never go here: they are files in ./credentials/ (mode 0600).\n" +
        "\n[box]\nlog_level = \"info\"\n";

    /// <summary>The development tree `boxbot dev up` uses when BOXBOT_HOME is not set, relative to the current folder.</summary>
    public const string DefaultFolder = ".boxbot-dev";

    public static string ResolveHome() =>
        Environment.GetEnvironmentVariable(BoxPaths.HomeVariable) is { Length: > 0 } home ? Path.GetFullPath(home) : Path.GetFullPath(DefaultFolder);

    /// <summary>Creates the folders; returns the names of credentials it generated.</summary>
    public static IReadOnlyList<string> Prepare(BoxPaths paths)
    {
        Directory.CreateDirectory(paths.Home!, Private);
        Directory.CreateDirectory(paths.RuntimeDir, GroupReadable);
        Directory.CreateDirectory(paths.StateRoot, GroupReadable);
        foreach (var daemon in Daemons.All)
        {
            Directory.CreateDirectory(paths.StateDir(daemon), Private);
        }
        if (!File.Exists(paths.ConfigFile))
        {
            AtomicFile.WriteAllText(paths.ConfigFile, DefaultConfig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        }
        return DevCredentials.EnsureGenerated(paths.CredentialsDir);
    }

    /// <summary>
    /// Running as root, sandbox jobs drop to the configured job user, which must exist: create it
    /// (a system user with no home and no login shell) when it does not. Returns a note, or null.
    /// </summary>
    public static string? EnsureJobUser(BoxBotConfig config)
    {
        var user = config.Sandbox.JobUser;
        if (LinuxProcess.EffectiveUid != 0 || UnixAccounts.LookupUser(user) is not null)
        {
            return null;
        }
        using var useradd = System.Diagnostics.Process.Start("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
            ?? throw new IOException("cannot run useradd");
        useradd.WaitForExit();
        return useradd.ExitCode == 0
            ? $"created the system user {user} for sandbox jobs"
            : throw new IOException($"useradd {user} failed with exit code {useradd.ExitCode}; create the user yourself");
    }

    /// <summary>Where the daemon executables are: $BOXBOT_BIN_DIR, else next to this executable.</summary>
    public static string BinDir() =>
        Environment.GetEnvironmentVariable("BOXBOT_BIN_DIR") is { Length: > 0 } dir ? Path.GetFullPath(dir) : AppContext.BaseDirectory;
}
