using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli.Doctor;

/// <summary>
/// Check 8: the mesh. A connection to a broker off this machine must be TLS and carry credentials unless
/// <c>[mesh] allow_insecure</c> (then a warning); the household broker listens on loopback, or on the LAN with TLS only;
/// and the plugin host says whether it is on the mesh, and why not.
/// </summary>
internal static class MeshCheck
{
    public const string Group = "mesh";

    /// <summary>The credentials that prove the box to a remote broker (any one, non-empty, is enough).</summary>
    public static IReadOnlyList<string> BrokerCredentials { get; } = ["mesh-creds-json", "mesh-creds", "mesh-password"];

    public static Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        var status = context.StatusOf(Daemons.PluginHost);
        var source = status.ConfigPath is { Length: > 0 } reported ? reported : context.Paths.ConfigFile;
        MeshSettings settings;
        try
        {
            settings = ConfigLoader.LoadOrDefaults(source).Config.Mesh;
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            settings = context.Config.Mesh;
        }
        // Only root reads the installed credentials folder; for anyone else it stays unknown, and the finding says so.
        bool? credentialSet = null;
        if (context.IsRoot || context.Development)
        {
            try
            {
                credentialSet = BrokerCredentials.Any(name => new FileInfo(Path.Combine(context.Paths.CredentialsDir, name)) is { Exists: true, Length: > 0 });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        var details = status.Details;
        Uri? running = details?.GetValueOrDefault("mesh_url") is { } u && Uri.TryCreate(u, UriKind.Absolute, out var parsed) ? parsed : null;
        return Task.FromResult(Evaluate(settings, credentialSet, running, status.Up ? details?.GetValueOrDefault("mesh") : null, source, context.Development));
    }

    /// <summary>
    /// The verdicts: <paramref name="credentialSet"/> whether a broker credential is set (null: could not look);
    /// <paramref name="runningUrl"/> the broker the plugin host is connected to; <paramref name="state"/> the plugin host's
    /// mesh state (null: it did not answer).
    /// </summary>
    public static IReadOnlyList<Finding> Evaluate(MeshSettings settings, bool? credentialSet, Uri? runningUrl, string? state, string source, bool development)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var edit = development ? $"${{EDITOR:-vi}} {source} && boxbot dev up" : $"sudoedit {source} && sudo systemctl restart boxbot-plugin-host.service";
        if (settings.Broker == MeshBroker.Off)
        {
            return [Finding.Skip(Group, "broker", "mesh: off ([mesh] broker = \"off\")")];
        }
        var findings = new List<Finding>();
        if (settings.Broker == MeshBroker.Local)
        {
            findings.Add(settings.ListenLan
                ? Finding.Ok(Group, "broker", $"mesh: the household broker listens on the LAN on port {settings.Port}, TLS only, with a certificate from the box's own CA")
                : Finding.Ok(Group, "broker", $"mesh: the household broker listens on loopback only (port {settings.Port})"));
        }
        else
        {
            findings.Add(Remote(settings, credentialSet, settings.Url ?? runningUrl, edit));
        }
        findings.Add(state switch
        {
            null => Finding.Warn(Group, "connection", "mesh: the plugin host did not answer, so whether the box is on the mesh is unknown",
                development ? "boxbot dev up" : "sudo systemctl restart boxbot-plugin-host.service"),
            "connected" => Finding.Ok(Group, "connection", $"mesh: the plugin host is connected{(runningUrl is null ? "" : " to " + runningUrl)}"),
            "off" => Finding.Skip(Group, "connection", "mesh: the plugin host runs without the mesh"),
            "connecting" or "reconnecting" => Finding.Warn(Group, "connection", $"mesh: the plugin host is {state}", "boxbot mesh status"),
            _ => Finding.Fail(Group, "connection", $"mesh: the plugin host is not on the mesh: {(state.StartsWith("down: ", StringComparison.Ordinal) ? state[6..] : state)}",
                settings.Broker == MeshBroker.Local && !development ? "sudo systemctl status boxbot-nats.service" : edit),
        });
        return findings;
    }

    private static Finding Remote(MeshSettings settings, bool? credentialSet, Uri? url, string edit)
    {
        if (url is null)
        {
            return Finding.Warn(Group, "exposure", "mesh: [mesh] broker = \"remote\" with no mesh.url, and the plugin host reports none: which broker it would use is unknown",
                edit + "  # set [mesh] url");
        }
        var strict = settings with { AllowInsecure = false };
        if (strict.ExposureProblem(url, credentialSet ?? true) is not { } problem)
        {
            return credentialSet is null
                ? Finding.Warn(Group, "exposure", $"mesh: {url}: only root can see whether credentials are set", "sudo boxbot doctor")
                : Finding.Ok(Group, "exposure", $"mesh: {url}" + (url.Scheme == "tls" ? ", TLS checked against the configured CA, with credentials" : " (this machine)"));
        }
        return settings.AllowInsecure
            ? Finding.Warn(Group, "exposure", $"mesh: [mesh] allow_insecure = true accepts this: {problem}", edit + "  # set [mesh] allow_insecure = false")
            : Finding.Fail(Group, "exposure", "mesh: " + problem, edit);
    }
}
