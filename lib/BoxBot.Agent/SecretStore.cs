using System.Text.Json;
using System.Text.Json.Serialization;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent;

/// <summary>
/// Secrets the household gave the box (API keys for scripts). Stored in one file, mode 0600, written
/// atomically; values can be stored and handed to a sandbox job that names them, never read back
/// through any method. Errors are <see cref="RpcException"/>s (InvalidParams for a bad name or value, NotFound, Refused when full) so callers see why.
/// </summary>
public sealed class SecretStore
{
    public const int MaxSecrets = SecretRules.MaxSecrets;
    public const int MaxValueBytes = SecretRules.MaxValueBytes;
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly Lock _gate = new();
    private SortedDictionary<string, string> _secrets;

    public SecretStore(string path)
    {
        _path = path;
        _secrets = Load(path);
    }

    public static bool IsValidName(string name) => SecretRules.IsValidName(name);

    public IReadOnlyList<string> Names()
    {
        lock (_gate)
        {
            return [.. _secrets.Keys];
        }
    }

    public void Set(string name, string value)
    {
        RequireName(name);
        if (!SecretRules.IsValidValue(value))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"the value of {name} must be 1 to {MaxValueBytes} bytes of UTF-8 without NUL characters");
        }
        lock (_gate)
        {
            if (!_secrets.ContainsKey(name) && _secrets.Count >= MaxSecrets)
            {
                throw new RpcException(RpcErrorCodes.Refused, $"the store is full ({MaxSecrets} secrets); delete one first (`boxbot secrets delete NAME`)");
            }
            var next = new SortedDictionary<string, string>(_secrets, StringComparer.Ordinal) { [name] = value };
            Save(next);
            _secrets = next;
        }
    }

    public bool Delete(string name)
    {
        RequireName(name);
        lock (_gate)
        {
            if (!_secrets.ContainsKey(name))
            {
                return false;
            }
            var next = new SortedDictionary<string, string>(_secrets, StringComparer.Ordinal);
            next.Remove(name);
            Save(next);
            _secrets = next;
            return true;
        }
    }

    /// <summary>The values of exactly these secrets, for one job; unknown names are an error naming them all.</summary>
    public IReadOnlyDictionary<string, string> Resolve(IReadOnlyList<string> names)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        lock (_gate)
        {
            foreach (var name in names.Distinct(StringComparer.Ordinal))
            {
                RequireName(name);
                if (_secrets.TryGetValue(name, out var value))
                {
                    result[name] = value;
                }
                else
                {
                    missing.Add(name);
                }
            }
        }
        return missing.Count == 0
            ? result
            : throw new RpcException(RpcErrorCodes.NotFound, $"no such secret: {string.Join(", ", missing)} (add it with `boxbot secrets set NAME`)");
    }

    private static void RequireName(string name)
    {
        if (!IsValidName(name))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, $"a secret name must match {SecretRules.NamePattern}: an upper-case letter, then upper-case letters, digits or '_'");
        }
    }

    private void Save(SortedDictionary<string, string> secrets) =>
        AtomicFile.WriteAllText(_path, JsonSerializer.Serialize(new SecretFile { Secrets = secrets }, SecretFileContext.Default.SecretFile), Private);

    private static SortedDictionary<string, string> Load(string path)
    {
        var empty = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return empty;
        }
        if ((File.GetUnixFileMode(path) & ~Private) != 0)
        {
            throw new IOException($"{path} can be read by others than its owner; fix it with: chmod 600 {path}");
        }
        try
        {
            var file = JsonSerializer.Deserialize(File.ReadAllText(path), SecretFileContext.Default.SecretFile);
            var secrets = new SortedDictionary<string, string>(file?.Secrets ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            return secrets.Keys.All(IsValidName) ? secrets : throw new IOException($"{path} holds an invalid secret name");
        }
        catch (JsonException e)
        {
            // Never echo the content: it is secrets.
            throw new IOException($"{path} is not a valid secrets file (line {e.LineNumber + 1}); restore it from a backup or delete it", e);
        }
    }
}

internal sealed class SecretFile
{
    [JsonPropertyName("secrets")] public IDictionary<string, string> Secrets { get; set; } = new Dictionary<string, string>();
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(SecretFile))]
internal sealed partial class SecretFileContext : JsonSerializerContext;
