namespace BoxBot.Sandbox.Sdk.Tests;

/// <summary>In-memory secrets (the real store is the agent's) that records every call it receives.</summary>
internal sealed class FakeSdkHost : ISdkHost
{
    private readonly Dictionary<string, string> _secrets = [];
    private readonly List<string> _calls = [];

    /// <summary>When set, every call throws this instead of answering.</summary>
    public Exception? Throw { get; set; }

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToArray();
            }
        }
    }

    public IReadOnlyDictionary<string, string> Secrets
    {
        get
        {
            lock (_secrets)
            {
                return new Dictionary<string, string>(_secrets);
            }
        }
    }

    public ValueTask StoreSecretAsync(string name, string value, CancellationToken ct)
    {
        Record($"store {name}");
        lock (_secrets)
        {
            _secrets[name] = value;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<string>> ListSecretsAsync(CancellationToken ct)
    {
        Record("list");
        lock (_secrets)
        {
            return ValueTask.FromResult<IReadOnlyList<string>>(_secrets.Keys.Order(StringComparer.Ordinal).ToArray());
        }
    }

    public ValueTask<bool> HasSecretAsync(string name, CancellationToken ct)
    {
        Record($"has {name}");
        lock (_secrets)
        {
            return ValueTask.FromResult(_secrets.ContainsKey(name));
        }
    }

    public ValueTask<bool> DeleteSecretAsync(string name, CancellationToken ct)
    {
        Record($"delete {name}");
        lock (_secrets)
        {
            return ValueTask.FromResult(_secrets.Remove(name));
        }
    }

    /// <summary>Skills saved: name → (description, body).</summary>
    public Dictionary<string, (string Description, string Body)> Skills { get; } = [];

    public ValueTask SaveSkillAsync(string name, string description, string body, CancellationToken ct)
    {
        Record($"skill {name}");
        if (name == "sandbox-scripts")
        {
            throw new SdkRefusedException("sandbox-scripts is a built-in skill and cannot be replaced");
        }
        lock (Skills)
        {
            Skills[name] = (description, body);
        }

        return ValueTask.CompletedTask;
    }

    private void Record(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }

        if (Throw is { } e)
        {
            throw e;
        }
    }
}
