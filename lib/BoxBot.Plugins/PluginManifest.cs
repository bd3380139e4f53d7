using System.Text.Json;
using System.Text.RegularExpressions;

namespace BoxBot.Plugins;

/// <summary>A manifest that cannot be used: the message names the field and what is wrong.</summary>
public sealed class PluginManifestException(string message) : Exception(message);

/// <summary>
/// What a plugin may do beyond computing: boxbot's extension of the reference's manifest (<c>capabilities</c>). Omitted
/// means nothing: no network, no secrets, no devices, the default memory and time.
/// </summary>
/// <param name="Hosts">Host names it may reach over HTTPS (through the egress proxy); empty: no network at all.</param>
/// <param name="Secrets">Secret names it may be given (each only once an admin grants it at install).</param>
/// <param name="Devices">Mesh calls it may make: <c>device.function</c> or <c>device.*</c>.</param>
public sealed record PluginCapabilities(IReadOnlyList<string> Hosts, IReadOnlyList<string> Secrets, IReadOnlyList<string> Devices, int MemoryMib, int TimeoutSeconds)
{
    public const int DefaultMemoryMib = 128;
    public const int DefaultTimeoutSeconds = 30;

    public static PluginCapabilities None { get; } = new([], [], [], DefaultMemoryMib, DefaultTimeoutSeconds);

    // By the values, not the lists' identities.
    public bool Equals(PluginCapabilities? other) => other is not null && Hosts.SequenceEqual(other.Hosts) && Secrets.SequenceEqual(other.Secrets)
        && Devices.SequenceEqual(other.Devices) && MemoryMib == other.MemoryMib && TimeoutSeconds == other.TimeoutSeconds;

    public override int GetHashCode() => HashCode.Combine(Hosts.Count, Secrets.Count, Devices.Count, MemoryMib, TimeoutSeconds);
}

/// <summary>
/// A plugin's <c>manifest.json</c>: the reference's fields (<c>id</c>, <c>version</c>, <c>description</c>, <c>entry_point</c>,
/// <c>class_name</c>, <c>dependencies.python</c>) checked more strictly than the reference does (which checks only that
/// <c>class_name</c> exists), and boxbot's <c>capabilities</c>. Other top-level keys are kept out of the way, not refused.
/// </summary>
public sealed partial record PluginManifest(string Id, string Version, string Description, string EntryPoint, string ClassName,
    IReadOnlyList<string> PythonDependencies, PluginCapabilities Capabilities)
{
    private const int MaxDescription = 1000;

    public static PluginManifest Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PluginManifestException($"{source}: not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PluginManifestException($"{source}: must be a JSON object");
            }
            string Text(string key, string? fallback)
            {
                if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
                {
                    return fallback ?? throw new PluginManifestException($"{source}: {key} is missing");
                }
                return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new PluginManifestException($"{source}: {key} must be a string");
            }
            var id = Text("id", null);
            if (!IdPattern().IsMatch(id))
            {
                throw new PluginManifestException($"{source}: id \"{Shorten(id)}\" must be 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit");
            }
            var version = Text("version", "0");
            if (!VersionPattern().IsMatch(version))
            {
                throw new PluginManifestException($"{source}: version \"{Shorten(version)}\" must be 1-64 of A-Z, a-z, 0-9, '.', '_', '+' and '-'");
            }
            var description = Text("description", "");
            if (description.Length > MaxDescription)
            {
                throw new PluginManifestException($"{source}: description is longer than {MaxDescription} characters");
            }
            var entry = Text("entry_point", "capability.py");
            if (!EntryPattern().IsMatch(entry) || entry.Split('/').Any(s => s is "." or ".."))
            {
                throw new PluginManifestException($"{source}: entry_point \"{Shorten(entry)}\" must be a .py file inside the plugin's folder (a relative path without '..')");
            }
            var className = Text("class_name", null);
            if (!IdentifierPattern().IsMatch(className))
            {
                throw new PluginManifestException($"{source}: class_name \"{Shorten(className)}\" must be a Python class name");
            }
            var dependencies = ReadDependencies(root, source);
            var capabilities = root.TryGetProperty("capabilities", out var caps) && caps.ValueKind != JsonValueKind.Null
                ? ReadCapabilities(caps, source)
                : PluginCapabilities.None;
            return new PluginManifest(id, version, description, entry, className, dependencies, capabilities);
        }
    }

    // By the values, not the lists' identities.
    public bool Equals(PluginManifest? other) => other is not null && (Id, Version, Description, EntryPoint, ClassName) ==
        (other.Id, other.Version, other.Description, other.EntryPoint, other.ClassName)
        && PythonDependencies.SequenceEqual(other.PythonDependencies) && Capabilities.Equals(other.Capabilities);

    public override int GetHashCode() => HashCode.Combine(Id, Version, EntryPoint, ClassName);

    private static List<string> ReadDependencies(JsonElement root, string source)
    {
        if (!root.TryGetProperty("dependencies", out var deps) || deps.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (deps.ValueKind != JsonValueKind.Object)
        {
            throw new PluginManifestException($"{source}: dependencies must be an object ({{\"python\": [...]}})");
        }
        if (!deps.TryGetProperty("python", out var python) || python.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        return Strings(python, $"{source}: dependencies.python", 64, s => RequirementPattern().IsMatch(s),
            "a requirement such as \"requests==2.31.0\"");
    }

    private static PluginCapabilities ReadCapabilities(JsonElement caps, string source)
    {
        if (caps.ValueKind != JsonValueKind.Object)
        {
            throw new PluginManifestException($"{source}: capabilities must be an object");
        }
        foreach (var property in caps.EnumerateObject())
        {
            if (property.Name is not ("network" or "secrets" or "devices" or "memory_mib" or "timeout_s"))
            {
                // A capability this box does not know would be one it cannot enforce: refused, not ignored.
                throw new PluginManifestException($"{source}: capabilities.{Shorten(property.Name)} is not a capability boxbot knows " +
                    "(network, secrets, devices, memory_mib, timeout_s)");
            }
        }
        List<string> hosts = [];
        if (caps.TryGetProperty("network", out var network) && network.ValueKind != JsonValueKind.Null)
        {
            if (network.ValueKind == JsonValueKind.String && network.GetString() == "none")
            {
                hosts = [];
            }
            else if (network.ValueKind == JsonValueKind.Array)
            {
                hosts = Strings(network, $"{source}: capabilities.network", 32, s => HostPattern().IsMatch(s) && !s.All(c => char.IsAsciiDigit(c) || c == '.'),
                    "a host name such as \"api.example.com\" (lower case; no addresses, ports or wildcards)");
            }
            else
            {
                throw new PluginManifestException($"{source}: capabilities.network must be \"none\" or a list of host names");
            }
        }
        var secrets = caps.TryGetProperty("secrets", out var s) && s.ValueKind != JsonValueKind.Null
            ? Strings(s, $"{source}: capabilities.secrets", BoxBot.Contracts.SecretRules.MaxSecrets, BoxBot.Contracts.SecretRules.IsValidName,
                $"a secret name ({BoxBot.Contracts.SecretRules.NamePattern}, as the box's secrets are named)")
            : [];
        var devices = caps.TryGetProperty("devices", out var d) && d.ValueKind != JsonValueKind.Null
            ? Strings(d, $"{source}: capabilities.devices", 64, r => DeviceRulePattern().IsMatch(r), "DEVICE.FUNCTION or DEVICE.*")
            : [];
        return new PluginCapabilities(hosts, secrets, devices,
            Int(caps, "memory_mib", PluginCapabilities.DefaultMemoryMib, 16, 1024, source),
            Int(caps, "timeout_s", PluginCapabilities.DefaultTimeoutSeconds, 1, 300, source));
    }

    private static int Int(JsonElement caps, string key, int fallback, int min, int max, string source)
    {
        if (!caps.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max
            ? n
            : throw new PluginManifestException($"{source}: capabilities.{key} must be a whole number from {min} to {max}");
    }

    private static List<string> Strings(JsonElement array, string what, int max, Func<string, bool> valid, string expected)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new PluginManifestException($"{what} must be a list");
        }
        var list = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new PluginManifestException($"{what}: every item must be a string");
            if (!valid(text))
            {
                throw new PluginManifestException($"{what}: \"{Shorten(text)}\" is not {expected}");
            }
            if (!list.Contains(text, StringComparer.Ordinal))
            {
                list.Add(text);
            }
        }
        return list.Count <= max ? list : throw new PluginManifestException($"{what}: more than {max} items");
    }

    private static string Shorten(string s)
    {
        var printable = new string([.. s.Select(c => char.IsControl(c) ? '?' : c)]);
        return printable.Length <= 80 ? printable : printable[..80] + "…";
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    public static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9._+-]{1,64}$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}\\.py$")]
    private static partial Regex EntryPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\\[[A-Za-z0-9,._-]+\\])?\\s*((==|>=|<=|~=|!=|<|>)\\s*[A-Za-z0-9.*+!_-]+\\s*,?\\s*)*$")]
    private static partial Regex RequirementPattern();

    [GeneratedRegex("^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}\\.([A-Za-z_][A-Za-z0-9_.]{0,127}|\\*)$")]
    private static partial Regex DeviceRulePattern();
}
