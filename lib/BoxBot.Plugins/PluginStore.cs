using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BoxBot.Config;
using BoxBot.Linux;

namespace BoxBot.Plugins;

/// <summary>An install or removal refused; the message says why and what to do.</summary>
public sealed class PluginStoreException(string message) : Exception(message);

/// <summary>A plugin as installed: what it declared, what an admin granted, where it came from, who installed it.</summary>
public sealed record InstalledPlugin
{
    public required string Id { get; init; }
    public required string Version { get; init; }
    public required string Digest { get; init; }
    public required string Description { get; init; }
    public required string EntryPoint { get; init; }
    public required string ClassName { get; init; }
    public required IReadOnlyList<string> PythonDependencies { get; init; }
    public required IReadOnlyList<string> NetworkHosts { get; init; }
    public required IReadOnlyList<string> DeclaredSecrets { get; init; }
    /// <summary>The declared secrets an admin granted at install (a subset of <see cref="DeclaredSecrets"/>).</summary>
    public required IReadOnlyList<string> GrantedSecrets { get; init; }
    public required IReadOnlyList<string> Devices { get; init; }
    public required int MemoryMib { get; init; }
    public required int TimeoutSeconds { get; init; }
    /// <summary>Where it came from: a folder, a file, a URL, or the mesh.</summary>
    public required string Source { get; init; }
    public required string InstalledBy { get; init; }
    public required DateTimeOffset InstalledAt { get; init; }

    [JsonIgnore]
    public PluginCapabilities Capabilities => new(NetworkHosts, DeclaredSecrets, Devices, MemoryMib, TimeoutSeconds);
}

/// <summary>
/// The installed plugins under one folder: <c>installed/&lt;id&gt;/</c> (the plugin's files, moved there from staging by a
/// rename, so a plugin is there whole or not at all), <c>plugins.json</c> (what is installed, written atomically) and
/// <c>audit.log</c> (one JSON line per install and removal, appended and flushed to disk, never rewritten). At most
/// <see cref="MaxPlugins"/>. Leftovers of an install or removal cut short are cleared when the store opens.
/// </summary>
public sealed class PluginStore
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;
    private const UnixFileMode SharedDirectory = PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
    private const UnixFileMode OpenDirectory = PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private List<InstalledPlugin> _plugins;

    public PluginStore(string root, int maxPlugins, TimeProvider time)
    {
        Root = Path.GetFullPath(root);
        MaxPlugins = maxPlugins;
        _time = time;
        // The sandbox runner reads installed and staged plugins (installed: its user is in this one's group); the
        // records, audit log and anything else stay the owner's (0600).
        Directory.CreateDirectory(Root, SharedDirectory);
        Directory.CreateDirectory(InstalledDir, OpenDirectory);
        Directory.CreateDirectory(StagingDir, SharedDirectory);
        File.SetUnixFileMode(Root, SharedDirectory);
        File.SetUnixFileMode(InstalledDir, OpenDirectory);
        File.SetUnixFileMode(StagingDir, SharedDirectory);
        _plugins = Load();
        // An install or removal cut short leaves a ".new-" or ".gone-" folder, or a plugin folder nothing records.
        foreach (var dir in Directory.EnumerateDirectories(InstalledDir))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('.') || _plugins.All(p => p.Id != name))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        foreach (var dir in Directory.EnumerateFileSystemEntries(StagingDir))
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
            else
            {
                File.Delete(dir);
            }
        }
    }

    public string Root { get; }

    public int MaxPlugins { get; }

    /// <summary>Where bundles are unpacked before they are installed (same file system, so the install is a rename).</summary>
    public string StagingDir => Path.Combine(Root, "staging");

    public string InstalledDir => Path.Combine(Root, "installed");

    public string StateFile => Path.Combine(Root, "plugins.json");

    public string AuditLog => Path.Combine(Root, "audit.log");

    public string PathOf(string id) => Path.Combine(InstalledDir, id);

    public IReadOnlyList<InstalledPlugin> List()
    {
        lock (_lock)
        {
            return [.. _plugins.OrderBy(p => p.Id, StringComparer.Ordinal)];
        }
    }

    public InstalledPlugin? Get(string id)
    {
        lock (_lock)
        {
            return _plugins.FirstOrDefault(p => p.Id == id);
        }
    }

    /// <summary>
    /// Installs the unpacked plugin <paramref name="extracted"/> (from <see cref="StagingDir"/>) as its manifest says, with
    /// <paramref name="grantedSecrets"/> (each must be declared). An installed plugin of the same id is replaced only when
    /// <paramref name="replace"/>. The staging folder is gone afterwards, installed or not.
    /// </summary>
    public InstalledPlugin Install(ExtractedPlugin extracted, string digest, string source, string installedBy, IReadOnlyList<string> grantedSecrets, bool replace)
    {
        ArgumentNullException.ThrowIfNull(extracted);
        ArgumentNullException.ThrowIfNull(grantedSecrets);
        try
        {
            var staging = Path.GetFullPath(extracted.Staging);
            if (Path.GetDirectoryName(staging) != StagingDir)
            {
                throw new PluginStoreException($"{staging} is not in the store's staging folder {StagingDir}");
            }
            var manifest = PluginManifest.Parse(File.ReadAllText(Path.Combine(extracted.Root, "manifest.json")), "manifest.json");
            var ungranted = grantedSecrets.Except(manifest.Capabilities.Secrets, StringComparer.Ordinal).ToList();
            if (ungranted.Count > 0)
            {
                throw new PluginStoreException($"{manifest.Id} does not declare the secret{(ungranted.Count == 1 ? "" : "s")} {string.Join(", ", ungranted)}: " +
                    "only declared secrets can be granted");
            }
            lock (_lock)
            {
                var existing = _plugins.FirstOrDefault(p => p.Id == manifest.Id);
                if (existing is not null && !replace)
                {
                    throw new PluginStoreException($"{manifest.Id} is installed (version {existing.Version}, {existing.Digest}); remove it first, or install again as a replacement");
                }
                if (existing is null && _plugins.Count >= MaxPlugins)
                {
                    throw new PluginStoreException($"{MaxPlugins} plugins are installed, the most this box takes (max_plugins); remove one first");
                }
                var plugin = new InstalledPlugin
                {
                    Id = manifest.Id,
                    Version = manifest.Version,
                    Digest = digest,
                    Description = manifest.Description,
                    EntryPoint = manifest.EntryPoint,
                    ClassName = manifest.ClassName,
                    PythonDependencies = manifest.PythonDependencies,
                    NetworkHosts = manifest.Capabilities.Hosts,
                    DeclaredSecrets = manifest.Capabilities.Secrets,
                    GrantedSecrets = [.. grantedSecrets.Distinct(StringComparer.Ordinal)],
                    Devices = manifest.Capabilities.Devices,
                    MemoryMib = manifest.Capabilities.MemoryMib,
                    TimeoutSeconds = manifest.Capabilities.TimeoutSeconds,
                    Source = source,
                    InstalledBy = installedBy,
                    InstalledAt = _time.GetUtcNow(),
                };
                var target = PathOf(plugin.Id);
                var incoming = Path.Combine(InstalledDir, ".new-" + Token());
                Directory.Move(extracted.Root, incoming);
                string? old = null;
                if (existing is not null)
                {
                    old = Path.Combine(InstalledDir, ".gone-" + Token());
                    Directory.Move(target, old);
                }
                Directory.Move(incoming, target);
                File.SetUnixFileMode(target, OpenDirectory); // a staging folder is 0700; the confined plugin reads its files
                LinuxFile.SyncDirectory(InstalledDir);
                Save([.. _plugins.Where(p => p.Id != plugin.Id), plugin]);
                Audit(existing is null ? "install" : "replace", plugin.Id, plugin.Version, plugin.Digest, source, installedBy);
                if (old is not null)
                {
                    Directory.Delete(old, recursive: true);
                }
                return plugin;
            }
        }
        finally
        {
            if (Directory.Exists(extracted.Staging))
            {
                Directory.Delete(extracted.Staging, recursive: true);
            }
        }
    }

    /// <summary>Removes plugin <paramref name="id"/>: its files, its record; the audit log keeps that it was there.</summary>
    public InstalledPlugin Remove(string id, string removedBy)
    {
        lock (_lock)
        {
            var plugin = _plugins.FirstOrDefault(p => p.Id == id) ?? throw new PluginStoreException($"no plugin {id} is installed");
            var gone = Path.Combine(InstalledDir, ".gone-" + Token());
            Directory.Move(PathOf(id), gone);
            LinuxFile.SyncDirectory(InstalledDir);
            Save([.. _plugins.Where(p => p.Id != id)]);
            Audit("remove", plugin.Id, plugin.Version, plugin.Digest, plugin.Source, removedBy);
            Directory.Delete(gone, recursive: true);
            return plugin;
        }
    }

    private void Save(List<InstalledPlugin> plugins)
    {
        AtomicFile.WriteAllText(StateFile, JsonSerializer.Serialize(new PluginStoreState(plugins), PluginStoreJson.Default.PluginStoreState), Private);
        _plugins = plugins;
    }

    private List<InstalledPlugin> Load()
    {
        if (!File.Exists(StateFile))
        {
            return [];
        }
        try
        {
            return [.. JsonSerializer.Deserialize(File.ReadAllText(StateFile), PluginStoreJson.Default.PluginStoreState)?.Plugins ?? []];
        }
        catch (JsonException e)
        {
            throw new PluginStoreException($"{StateFile} cannot be read ({e.Message}); the plugins' files are in {InstalledDir}");
        }
    }

    private void Audit(string action, string id, string version, string digest, string source, string by)
    {
        var line = JsonSerializer.Serialize(new AuditRecord(_time.GetUtcNow(), action, id, version, digest, source, by), PluginStoreJson.Default.AuditRecord) + "\n";
        using var log = new FileStream(AuditLog, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, UnixCreateMode = Private });
        log.Write(Encoding.UTF8.GetBytes(line));
        log.Flush(flushToDisk: true);
    }

    private static string Token() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}

internal sealed record PluginStoreState(IReadOnlyList<InstalledPlugin> Plugins);

/// <summary>One line of the audit log.</summary>
internal sealed record AuditRecord(DateTimeOffset At, string Action, string Id, string Version, string Digest, string Source, string By);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(PluginStoreState))]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class PluginStoreJson : JsonSerializerContext;
