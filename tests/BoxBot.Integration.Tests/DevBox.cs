using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>
/// A whole box under `boxbot dev up` (the published executables) in a throwaway BOXBOT_HOME, driven
/// through the CLI. Disposing stops it with SIGTERM and deletes the folder.
/// </summary>
internal sealed class DevBox(string home) : IDisposable
{
    private ObservedProcess? _dev;

    public string Home { get; } = home;

    /// <summary>dev up's own output (every daemon's log lines, prefixed).</summary>
    public ObservedProcess Dev => _dev ?? throw new InvalidOperationException("the box is not started");

    /// <summary>Writes <paramref name="configToml"/> as the config and starts the box; returns once all five daemons are up.</summary>
    public async Task StartAsync(string configToml, IDictionary<string, string>? env = null)
    {
        var config = Write("test.toml", configToml);
        var all = new Dictionary<string, string>(env ?? new Dictionary<string, string>()) { ["BOXBOT_HOME"] = Home };
        _dev = new ObservedProcess(TestEnv.Exe("boxbot"), ["dev", "up", "--config", config], all);
        await _dev.WaitForLineAsync("all 5 daemons up");
    }

    public (int ExitCode, string Stdout, string Stderr) Boxbot(IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null) =>
        TestEnv.Run(TestEnv.Exe("boxbot"), args, new Dictionary<string, string?> { ["BOXBOT_HOME"] = Home }, timeout ?? TimeSpan.FromMinutes(2), stdin);

    /// <summary>The LLM API key a fake LLM server accepts, in the box's credentials folder (0700, the key 0600, as doctor wants).</summary>
    public void WriteLlmKey()
    {
        var credentials = Directory.CreateDirectory(Path.Combine(Home, "credentials"));
        File.SetUnixFileMode(credentials.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = Path.Combine(credentials.FullName, "llm-api-key");
        File.WriteAllText(key, "sk-ant-test-key-0123456789");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The config of a box whose agent talks to <paramref name="llm"/> (webhook on any port, no warm jobs); sections may follow.</summary>
    public static string AgentConfig(BoxBot.Agent.Tests.Llm.FakeLlmServer llm) =>
        "[webhook]\nport = 0\n[sandbox]\nwarm_jobs = 0\n[agent.llm]\nprovider = \"anthropic\"\nmodel = \"test-model\"\n" +
        $"base_url = \"{llm.Url.ToString().TrimEnd('/')}\"\ndaily_budget_usd = 5\n";

    /// <summary>Connects as mesh user <paramref name="name"/> with the portal file `boxbot mesh … add --out` wrote in <paramref name="dir"/>.</summary>
    public static async Task<(BoxBot.Mesh.MeshClient Client, string Tenant)> ConnectAsAsync(string dir, string name)
    {
        var portal = BoxBot.Mesh.Credentials.PortalCredentials.Parse(File.ReadAllText(Path.Combine(dir, name + ".creds.json")), name, dir);
        var client = await BoxBot.Mesh.MeshClient.ConnectAsync(BoxBot.Mesh.MeshOptions.For(portal.Urls[0]) with
        {
            Jwt = portal.Jwt,
            Seed = portal.Seed,
            InboxPrefix = "_INBOX_" + name,
            Name = name,
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return (client, portal.Tenant);
    }

    /// <summary>The text of the tool result the agent sent last in <paramref name="request"/> (Anthropic's wire).</summary>
    public static string ToolResult(BoxBot.Agent.Tests.Llm.FakeLlmRequest request) =>
        request.Json.GetProperty("messages").EnumerateArray().Last().GetProperty("content")[0].GetProperty("content").GetString()!;

    /// <summary>Writes a file in the box's folder; returns its path.</summary>
    public string Write(string name, string text)
    {
        var path = Path.Combine(Home, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        if (_dev is not null)
        {
            TestEnv.Signal(_dev.Process.Id, LinuxProcess.SIGTERM);
            _dev.WaitExit();
            _dev.Dispose();
        }
        Directory.Delete(Home, recursive: true);
    }
}
