namespace BoxBot.Sandbox.Plugins;

/// <summary>
/// Makes a job a plugin's process: its code folder bound read-only at /plugin, its data folder (when given) read-write at
/// /data, and the runtime's plugin runner (<c>device_connect_edge._runner</c>) as the script, which imports
/// <paramref name="EntryPoint"/> and serves <paramref name="ClassName"/>'s functions over the job's socket
/// (<see cref="PluginProcess"/>), or, with <paramref name="Describe"/>, prints what it offers and exits.
/// </summary>
/// <param name="Id">The plugin's id (manifest <c>id</c>, ^[a-z0-9][a-z0-9_-]{0,63}$).</param>
/// <param name="CodeHost">The host folder holding manifest.json and the code, readable by the runner.</param>
/// <param name="DataHost">The host folder the plugin may write, kept across restarts; null: none (a describe job).</param>
/// <param name="EntryPoint">The file to import, relative to the code folder.</param>
/// <param name="ClassName">The class in it whose decorated methods are the plugin's functions.</param>
/// <param name="Describe">Import and describe only: the job prints one JSON line and exits.</param>
public sealed partial record JobPlugin(string Id, string CodeHost, string? DataHost, string EntryPoint, string ClassName, bool Describe)
{
    internal const string CodeInJob = "/plugin";
    internal const string DataInJob = "/data";

    /// <summary>The job's script: the runtime's plugin runner, whose settings come from the environment.</summary>
    internal const string Script = "from device_connect_edge._runner import main\nmain()\n";

    /// <summary>A plugin id as manifests have it: ^[a-z0-9][a-z0-9_-]{0,63}$ (safe as a folder name and a subject token).</summary>
    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex IdPattern();

    internal void Validate()
    {
        if (!IsValidId(Id))
        {
            throw new SandboxRequestException($"plugin id '{Id}' must match ^[a-z0-9][a-z0-9_-]{{0,63}}$");
        }
        if (!Path.IsPathRooted(CodeHost) || !Directory.Exists(CodeHost))
        {
            throw new SandboxRequestException($"plugin {Id}: its code folder {CodeHost} does not exist");
        }
        if (DataHost is not null && (!Path.IsPathRooted(DataHost) || !Directory.Exists(DataHost)))
        {
            throw new SandboxRequestException($"plugin {Id}: its data folder {DataHost} does not exist");
        }
        if (EntryPoint.Length is 0 or > 200 || EntryPoint.StartsWith('/') || EntryPoint.Split('/').Any(p => p is "" or "." or "..")
            || !EntryPoint.EndsWith(".py", StringComparison.Ordinal) || EntryPoint.Any(char.IsControl))
        {
            throw new SandboxRequestException($"plugin {Id}: entry_point '{EntryPoint}' must be a relative .py path inside the plugin");
        }
        if (ClassName.Length is 0 or > 128 || !System.Text.RegularExpressions.Regex.IsMatch(ClassName, "^[A-Za-z_][A-Za-z0-9_]*$"))
        {
            throw new SandboxRequestException($"plugin {Id}: class_name '{ClassName}' is not a Python class name");
        }
    }

    internal Dictionary<string, string> Environment() => new()
    {
        ["BOXBOT_PLUGIN_ID"] = Id,
        ["BOXBOT_PLUGIN_CODE"] = CodeInJob,
        ["BOXBOT_PLUGIN_ENTRY"] = EntryPoint,
        ["BOXBOT_PLUGIN_CLASS"] = ClassName,
        ["BOXBOT_PLUGIN_MODE"] = Describe ? "describe" : "serve",
        ["BOXBOT_PLUGIN_DATA"] = DataHost is null ? "" : DataInJob,
    };
}
