using System.Buffers;
using System.Text.Json;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Wire;
using BoxBot.Plugins;

namespace BoxBot.PluginHost.Plugins;

/// <summary>
/// The reference plugin host's admin RPCs on the box's admin device (<c>{box}-admin</c>, which the household broker lets
/// only admin users call): <c>list_plugins</c>, <c>load_plugin</c>, <c>unload_plugin</c>, <c>reload_plugin</c> with the
/// reference's names, parameters and <c>{"status": ...}</c> results, each caller limited to
/// <see cref="ChangesPerCallerPerMinute"/> changes and installs a minute; and the three <c>install_plugin_from_*</c>,
/// which check the bundle as an install does (its digest required unless <c>[plugins] require_digest = false</c>), stage
/// it and answer <c>{"status": "pending", "approval_id": ...}</c>: code is installed only when an admin approves on the
/// box (<c>boxbot approvals approve ID</c>).
/// </summary>
internal sealed class PluginAdminFunctions(PluginManager plugins, PluginsOptions options, string agentSocket, TimeProvider time)
{
    public const int ChangesPerCallerPerMinute = 10;
    private readonly CallerLimiter _changes = new(ChangesPerCallerPerMinute, ChangesPerCallerPerMinute * 4, time);

    private const string IdSchema = """{"type": "object", "properties": {"plugin_id": {"type": "string", "description": "Capability folder name (must contain manifest.json)."}}, "required": ["plugin_id"]}""";
    private const string LoadSchema = """{"type": "object", "properties": {"plugin_id": {"type": "string", "description": "Capability folder name (must contain manifest.json)."}, "install_dependencies": {"description": "Opt-in pip install from manifest (not on boxbot: dependencies go through package approvals).", "default": null}}, "required": ["plugin_id"]}""";
    private const string InstallExtras = "\"plugin_id\": {\"type\": \"string\", \"default\": null}, \"digest\": {\"type\": \"string\", \"description\": \"sha256:HEX of the bundle.\", \"default\": null}, "
        + "\"format\": {\"type\": \"string\", \"default\": \"auto\"}, \"load\": {\"type\": \"boolean\", \"default\": true}, \"install_dependencies\": {\"default\": null}";

    public IReadOnlyList<(FunctionSpec Spec, DeviceFunctionHandler Handler, TimeSpan Timeout)> Functions()
    {
        var limit = TimeSpan.FromSeconds(60);
        return
        [
            (new FunctionSpec("list_plugins", "List installed and loaded plugins.", """{"type": "object", "properties": {}, "required": []}"""), ListAsync, limit),
            (new FunctionSpec("load_plugin", "Load an installed plugin into its confined process and offer its functions.", LoadSchema), LoadAsync, limit),
            (new FunctionSpec("unload_plugin", "Unload a plugin: its process ends and its functions leave the mesh.", IdSchema), UnloadAsync, limit),
            (new FunctionSpec("reload_plugin", "Unload and load a plugin again.", IdSchema), ReloadAsync, limit),
            (new FunctionSpec("install_plugin_from_bundle", "Stage a plugin from a base64 bundle; it is installed when an admin approves on the box.",
                $$"""{"type": "object", "properties": {"bundle_b64": {"type": "string"}, {{InstallExtras}}}, "required": ["bundle_b64"]}"""), InstallBundleAsync, limit),
            (new FunctionSpec("install_plugin_from_url", "Stage a plugin downloaded from a URL (HTTPS, an allowed host); it is installed when an admin approves on the box.",
                $$"""{"type": "object", "properties": {"url": {"type": "string"}, {{InstallExtras}}}, "required": ["url"]}"""), InstallUrlAsync, limit),
            (new FunctionSpec("install_plugin_from_manifest", "Stage a plugin from a manifest with bundle_b64 or url; it is installed when an admin approves on the box.",
                """{"type": "object", "properties": {"manifest": {"type": "object"}, "load": {"type": "boolean", "default": true}}, "required": ["manifest"]}"""), InstallManifestAsync, limit),
        ];
    }

    private async ValueTask<byte[]> ListAsync(DeviceCall call, CancellationToken ct)
    {
        var list = await plugins.ListAsync(ct);
        return WireJson.Object(w =>
        {
            w.WriteString("status"u8, "success"u8);
            w.WriteStartObject("loaded"u8);
            foreach (var p in list.Plugins.Where(p => p.State != "not loaded"))
            {
                w.WritePropertyName(p.Id);
                Summary(w, p);
            }
            w.WriteEndObject();
            w.WriteStartArray("available"u8);
            foreach (var p in list.Plugins)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, p.Id);
                w.WriteString("path"u8, plugins.PathOf(p.Id));
                w.WriteBoolean("loaded"u8, p.State != "not loaded");
                w.WritePropertyName("manifest"u8);
                Manifest(w, p);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("sidecars"u8);
            w.WriteEndObject();
            w.WriteString("capabilities_dir"u8, plugins.InstalledDir);
        });
    }

    private ValueTask<byte[]> LoadAsync(DeviceCall call, CancellationToken ct) =>
        ChangeAsync(call, id => $"Failed to load plugin '{id}'", async id => Success(await plugins.LoadAsync(id, remember: true, ct)));

    private ValueTask<byte[]> ReloadAsync(DeviceCall call, CancellationToken ct) =>
        ChangeAsync(call, id => $"Failed to reload plugin '{id}'", async id =>
        {
            await plugins.UnloadAsync(id, ct);
            return Success(await plugins.LoadAsync(id, remember: true, ct));
        });

    private ValueTask<byte[]> UnloadAsync(DeviceCall call, CancellationToken ct) =>
        ChangeAsync(call, id => $"Plugin '{id}' is not loaded", async id => await plugins.UnloadAsync(id, ct)
            ? WireJson.Object(w =>
            {
                w.WriteString("status"u8, "success"u8);
                w.WriteString("plugin_id"u8, id);
            })
            : Error(id, $"Plugin '{id}' is not loaded", null));

    private ValueTask<byte[]> InstallBundleAsync(DeviceCall call, CancellationToken ct) => InstallAsync(call, call.Params, ct);

    private ValueTask<byte[]> InstallUrlAsync(DeviceCall call, CancellationToken ct) => InstallAsync(call, call.Params, ct);

    private ValueTask<byte[]> InstallManifestAsync(DeviceCall call, CancellationToken ct)
    {
        var manifest = call.Params.GetProperty("manifest");
        var type = manifest.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "python";
        return type == "python"
            ? InstallAsync(call, manifest, ct, call.Params.TryGetProperty("load", out var l) ? l.ValueKind != JsonValueKind.False : true)
            : ValueTask.FromResult(InstallError($"unsupported manifest type: {type} (boxbot runs python plugins, each confined; no sidecars)"));
    }

    /// <summary>bundle_b64 or url from <paramref name="source"/>: fetched, its digest checked, staged, and an approval asked for.</summary>
    private async ValueTask<byte[]> InstallAsync(DeviceCall call, JsonElement source, CancellationToken ct, bool? load = null)
    {
        if (!_changes.TryTake(CallerLimiter.KeyOf(call.Caller)))
        {
            return InstallError($"rate limited: at most {ChangesPerCallerPerMinute} installs, loads, unloads and reloads a minute from one caller");
        }
        string? Text(string name) => source.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var digest = Text("digest");
        if (digest is null && options.RequireDigest)
        {
            return InstallError("digest is required (sha256:HEX of the bundle; [plugins] require_digest)");
        }
        load ??= !(source.TryGetProperty("load", out var l) && l.ValueKind == JsonValueKind.False);
        var who = Requester(call.Caller);
        try
        {
            byte[] bundle;
            string from;
            if (Text("bundle_b64") is { } b64)
            {
                if (b64.Length > (PluginBundle.MaxBundleBytes + 2) / 3 * 4)
                {
                    return InstallError($"bundle exceeds max size ({PluginBundle.MaxBundleBytes} bytes)");
                }
                var buffer = new byte[b64.Length * 3 / 4 + 3];
                if (!Convert.TryFromBase64String(b64, buffer, out var length))
                {
                    return InstallError("invalid base64 bundle");
                }
                bundle = buffer[..length];
                from = "bundle from " + who;
            }
            else if (Text("url") is { } text)
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var url))
                {
                    return InstallError($"invalid URL: {text}");
                }
                using var download = new PluginDownload();
                bundle = (await download.GetAsync(url, digest, new PluginDownloadOptions(options.AllowedHosts, options.RequireDigest), null, ct)).Bytes;
                from = url + " for " + who;
            }
            else
            {
                return InstallError("python manifest requires bundle_b64 or url");
            }
            var approval = await plugins.StageAsync(bundle, digest ?? PluginBundle.Digest(bundle), from, who, load.Value, agentSocket, ct);
            var plugin = approval.Plugin!;
            return WireJson.Object(w =>
            {
                w.WriteString("status"u8, "pending"u8);
                w.WriteString("plugin_id"u8, plugin.PluginId);
                w.WriteString("version"u8, plugin.Version);
                w.WriteString("digest"u8, plugin.Digest);
                w.WriteString("approval_id"u8, approval.Id);
                w.WriteString("message"u8, $"staged; it is installed when an admin approves on the box: boxbot approvals approve {approval.Id}");
            });
        }
        catch (PluginDownloadException e)
        {
            return InstallError(e.Message);
        }
        catch (Exception e) when (e is RpcException or IpcException)
        {
            return InstallError(e.Message);
        }
    }

    /// <summary>The admin user the broker let call: named by the inbox its reply goes to (<c>_INBOX_{user}</c>).</summary>
    private static string Requester(string caller) =>
        caller.StartsWith("_INBOX_", StringComparison.Ordinal) ? "mesh admin " + caller["_INBOX_".Length..].Split('.')[0] : "a mesh admin";

    private static byte[] InstallError(string message) => WireJson.Object(w =>
    {
        w.WriteString("status"u8, "error"u8);
        w.WriteString("message"u8, message);
    });

    /// <summary>A load, unload or reload: rate-limited per caller; a failure is the reference's error shape with boxbot's reason added.</summary>
    private async ValueTask<byte[]> ChangeAsync(DeviceCall call, Func<string, string> failure, Func<string, Task<byte[]>> change)
    {
        var id = call.Params.GetProperty("plugin_id").GetString()!;
        if (!_changes.TryTake(CallerLimiter.KeyOf(call.Caller)))
        {
            return Error(id, failure(id), $"rate limited: at most {ChangesPerCallerPerMinute} loads, unloads and reloads a minute from one caller");
        }
        try
        {
            return await change(id);
        }
        catch (Exception e) when (e is RpcException or IpcException)
        {
            return Error(id, failure(id), e.Message);
        }
    }

    private static byte[] Success(PluginInfo info) => WireJson.Object(w =>
    {
        w.WriteString("status"u8, "success"u8);
        w.WritePropertyName("plugin"u8);
        Summary(w, info);
    });

    private static byte[] Error(string id, string message, string? reason) => WireJson.Object(w =>
    {
        w.WriteString("status"u8, "error"u8);
        w.WriteString("plugin_id"u8, id);
        w.WriteString("message"u8, message);
        if (reason is not null)
        {
            w.WriteString("reason"u8, reason);
        }
    });

    /// <summary>The reference's capability summary: id, functions (short names), routines, manifest.</summary>
    private static void Summary(Utf8JsonWriter w, PluginInfo p)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, p.Id);
        w.WriteStartArray("functions"u8);
        foreach (var f in p.Functions)
        {
            w.WriteStringValue(f.Name);
        }
        w.WriteEndArray();
        w.WriteStartArray("routines"u8);
        w.WriteEndArray();
        w.WritePropertyName("manifest"u8);
        Manifest(w, p);
        w.WriteEndObject();
    }

    private static void Manifest(Utf8JsonWriter w, PluginInfo p)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, p.Id);
        w.WriteString("description"u8, p.Description);
        w.WriteString("version"u8, p.Version);
        w.WriteString("entry_point"u8, p.EntryPoint);
        w.WriteString("class_name"u8, p.ClassName);
        w.WriteEndObject();
    }
}
