using BoxBot.Config.Internal;

namespace BoxBot.Config;

/// <summary>The result of loading the configuration.</summary>
/// <param name="Config">The options to run with (before command-line flags).</param>
/// <param name="SourcePath">The file it came from (or the source name given to <see cref="ConfigLoader.Parse"/>).</param>
/// <param name="FromFile">False when the file did not exist and the built-in defaults were used.</param>
public sealed record LoadedConfig(BoxBotConfig Config, string SourcePath, bool FromFile);

/// <summary>
/// Reads <c>boxbot.toml</c> strictly: unknown sections and keys, wrong types and invalid values are all
/// errors naming file:line:col and the full key, and every error in the file is reported at once.
/// </summary>
/// <remarks>
/// Precedence, lowest first:
/// <list type="number">
/// <item>built-in defaults (<see cref="BoxBotConfig.Default"/> and each options record's <c>Default</c>);</item>
/// <item>the TOML file (<see cref="BoxPaths.ConfigFile"/>: <c>/etc/boxbot/boxbot.toml</c>, or <c>$BOXBOT_HOME/boxbot.toml</c>),
/// where a key that is absent keeps its default;</item>
/// <item>command-line flags, which the caller applies to the loaded config with <c>with</c>
/// (<c>config with { Webhook = config.Webhook with { Port = 0 } }</c>).</item>
/// </list>
/// Secrets are never part of the configuration; see <see cref="CredentialStore"/>.
/// </remarks>
public static class ConfigLoader
{
    /// <summary>Loads <paramref name="path"/>, which must exist.</summary>
    /// <exception cref="ConfigException">The file is missing, unreadable or invalid.</exception>
    public static LoadedConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new ConfigException(new ConfigError(path, 0, 0, "",
                Directory.Exists(path)
                    ? "is a directory, not a config file: give the path of boxbot.toml itself"
                    : "config file not found: give the path of an existing file (packaging/boxbot.example.toml lists every key with its default)"));
        }

        return Parse(Read(path), path) with { FromFile = true };
    }

    /// <summary>Like <see cref="Load"/>, but a missing file gives the built-in defaults with <c>FromFile = false</c>.</summary>
    public static LoadedConfig LoadOrDefaults(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return File.Exists(path) || Directory.Exists(path)
            ? Load(path)
            : new LoadedConfig(BoxBotConfig.Default, path, FromFile: false);
    }

    /// <summary>Parses TOML text; <paramref name="sourceName"/> is used in error messages.</summary>
    /// <exception cref="ConfigException">The text is invalid.</exception>
    public static LoadedConfig Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var config = ConfigParser.Parse(text, sourceName);
        return new LoadedConfig(config, sourceName, FromFile: true);
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw new ConfigException(new ConfigError(path, 0, 0, "",
                "permission denied reading the config file (on an installed box it is root:boxbot 0640: run as a member of group boxbot, or with sudo)"));
        }
        catch (IOException ex)
        {
            throw new ConfigException(new ConfigError(path, 0, 0, "", $"cannot read the config file: {ex.Message}"));
        }
    }
}
