using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Mesh.Device;
using BoxBot.Mesh.Wire;
using BoxBot.Plugins;
using Microsoft.Extensions.Logging;

namespace BoxBot.PluginHost.Plugins;

/// <summary>A loaded plugin's functions as the mesh sees them.</summary>
internal sealed record LoadedFunction(string PluginId, string Name, string Description, string ParametersJson);

/// <summary>
/// The plugin host's plugins: installs bundles (extracted under the store's staging folder, imported in a sandbox job to
/// learn their functions, then moved into place), loads each into its confined process in the sandbox runner, routes
/// calls to it, and keeps the box's mesh device and the events in step. Which plugins are loaded survives restarts
/// (<c>loaded.json</c>). Never runs plugin code in this process.
/// </summary>
internal sealed class PluginManager : IAsyncDisposable
{
    private static readonly TimeSpan UploadLifetime = TimeSpan.FromMinutes(10);
    private readonly PluginStore _store;
    private readonly SandboxPlugins _sandbox;
    private readonly PluginsOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, IReadOnlyList<LoadedFunction>> _loaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingUpload> _uploads = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromSeconds(3);
    private Task _events = Task.CompletedTask;
    private Task _reconciling = Task.CompletedTask;

    public PluginManager(PluginStore store, SandboxPlugins sandbox, PluginsOptions options, ILogger log, TimeProvider time)
    {
        _store = store;
        _sandbox = sandbox;
        _options = options;
        _log = log;
        _time = time;
    }

    /// <summary>Told after every load and unload (the mesh device registers again).</summary>
    public Action? Changed { get; set; }

    /// <summary>Publishes an event on the box's device (<c>plugin_loaded</c>, <c>plugin_unloaded</c>, a plugin's own).</summary>
    public Func<string, string, Task>? Publish { get; set; }

    /// <summary>Where an installed plugin's code is (the reference's lists show it).</summary>
    public string PathOf(string id) => _store.PathOf(id);

    public string InstalledDir => _store.InstalledDir;

    private string DesiredFile => Path.Combine(_store.Root, "loaded.json");

    public IReadOnlyList<LoadedFunction> Functions => [.. _loaded.Values.SelectMany(f => f)];

    /// <summary>Loads what was loaded before the restart (a failure is logged; the host serves the others), then relays events.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var desired = Desired();
        // The sandbox runner may start after this daemon (dev up, a restart): wait for it, up to two minutes.
        for (var attempt = 0; desired.Count > 0; attempt++)
        {
            try
            {
                await _sandbox.ListAsync(ct);
                break;
            }
            catch (IpcException e) when (attempt < 120)
            {
                if (attempt == 0)
                {
                    _log.LogInformation("waiting for the sandbox runner to load {Count} plugins: {Reason}", desired.Count, e.Message);
                }
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
            }
            catch (IpcException e)
            {
                _log.LogError("the sandbox runner is not reachable ({Reason}); plugins stay unloaded until `boxbot plugins load`", e.Message);
                desired.Clear();
            }
        }
        foreach (var id in desired)
        {
            if (_store.Get(id) is null)
            {
                continue;
            }
            try
            {
                await LoadAsync(id, remember: false, ct);
            }
            catch (Exception e) when (e is RpcException or IpcException)
            {
                _log.LogError("plugin {Plugin} could not be loaded at start: {Reason}", id, e.Message);
            }
        }
        _events = Task.Run(() => RelayEventsAsync(_stop.Token));
        _reconciling = Task.Run(() => ReconcileAsync(_stop.Token));
    }

    /// <summary>
    /// Every few seconds: a plugin this host loaded that the sandbox runner no longer runs (the runner restarted, its
    /// processes with it) is loaded again. Its functions stay advertised meanwhile; calls in the gap are answered "not loaded".
    /// </summary>
    private async Task ReconcileAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ReconcileEvery, _time, stop);
                if (_loaded.IsEmpty)
                {
                    continue;
                }
                var running = (await _sandbox.ListAsync(stop)).Plugins.Select(p => p.PluginId).ToHashSet(StringComparer.Ordinal);
                foreach (var id in _loaded.Keys.Where(id => !running.Contains(id)).ToList())
                {
                    await _changing.WaitAsync(stop);
                    try
                    {
                        if (_loaded.ContainsKey(id) && _store.Get(id) is not null)
                        {
                            _log.LogWarning("plugin {Plugin} is not running in the sandbox runner (it restarted?): loading it again", id);
                            await LoadLockedAsync(id, remember: false, stop);
                        }
                    }
                    catch (Exception e) when (e is RpcException or IpcException)
                    {
                        _log.LogError("plugin {Plugin} could not be loaded again: {Reason}", id, e.Message);
                    }
                    finally
                    {
                        _changing.Release();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IpcException)
            {
                // The runner is away; the next round tries again.
            }
        }
    }

    // ---- uploads: a bundle arrives in pieces (an IPC frame is at most 1 MiB) ----

    public PluginUploadState Upload(PluginUploadChunk chunk)
    {
        foreach (var (key, stale) in _uploads)
        {
            if (_time.GetUtcNow() - stale.Started > UploadLifetime)
            {
                _uploads.TryRemove(key, out _);
            }
        }
        PendingUpload upload;
        if (chunk.UploadId is null)
        {
            if (chunk.Offset != 0)
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, "a new upload starts at offset 0");
            }
            if (_uploads.Count >= 4)
            {
                throw new RpcException(RpcErrorCodes.Busy, "four uploads are in progress already; try again later");
            }
            upload = new PendingUpload(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), _time.GetUtcNow());
            _uploads[upload.Id] = upload;
        }
        else if (!_uploads.TryGetValue(chunk.UploadId, out upload!))
        {
            throw new RpcException(RpcErrorCodes.NotFound, $"no upload '{chunk.UploadId}' (uploads are kept {UploadLifetime.TotalMinutes:0} minutes)");
        }
        lock (upload)
        {
            if (chunk.Offset != upload.Bytes.Length)
            {
                throw new RpcException(RpcErrorCodes.InvalidParams, $"upload {upload.Id} has {upload.Bytes.Length} bytes; the next piece starts there, not at {chunk.Offset}");
            }
            if (upload.Bytes.Length + chunk.Data.Length > PluginBundle.MaxBundleBytes)
            {
                _uploads.TryRemove(upload.Id, out _);
                throw new RpcException(RpcErrorCodes.InvalidParams, $"the bundle is larger than {PluginBundle.MaxBundleBytes / (1024 * 1024)} MiB, the most a plugin may be");
            }
            upload.Bytes.Write(chunk.Data);
            return new PluginUploadState(upload.Id, upload.Bytes.Length);
        }
    }

    public byte[] TakeUpload(string id) => _uploads.TryRemove(id, out var upload)
        ? upload.Bytes.ToArray()
        : throw new RpcException(RpcErrorCodes.NotFound, $"no upload '{id}'");

    // ---- install, load, unload, remove ----

    /// <summary>
    /// Installs <paramref name="bundle"/> (a tar.gz or zip): checks its digest when one is given, extracts it into staging
    /// (every refusal of <see cref="PluginArchive"/>), validates its manifest, imports it in a sandbox job to learn its
    /// functions, moves it into place, and loads it when asked.
    /// </summary>
    public async Task<PluginInstallResult> InstallAsync(byte[] bundle, string? digest, string source, string installedBy, bool replace, bool load, CancellationToken ct)
    {
        var actual = DigestOf(bundle, digest);
        await _changing.WaitAsync(ct);
        try
        {
            var (extracted, manifest, functions) = await CheckLockedAsync(bundle, ct);
            var replaced = _store.Get(manifest.Id) is not null;
            if (replaced && replace && _loaded.ContainsKey(manifest.Id))
            {
                await UnloadLockedAsync(manifest.Id, remember: false, ct);
            }
            InstalledPlugin installed;
            try
            {
                installed = _store.Install(extracted, actual, source, installedBy, [], replace);
            }
            catch (PluginStoreException e)
            {
                throw new RpcException(RpcErrorCodes.Refused, e.Message);
            }
            _log.LogInformation("plugin {Plugin} {Version} ({Digest}) installed from {Source} by {By}: {Count} functions", installed.Id, installed.Version,
                installed.Digest, source, installedBy, functions.Count);
            if (load)
            {
                await LoadLockedAsync(installed.Id, remember: true, ct);
            }
            return new PluginInstallResult { Plugin = await InfoAsync(installed.Id, ct), Replaced = replaced };
        }
        finally
        {
            ClearStaging();
            _changing.Release();
        }
    }

    /// <summary>The bundle's digest, checked against <paramref name="expected"/> when one is given.</summary>
    private static string DigestOf(byte[] bundle, string? expected)
    {
        var actual = PluginBundle.Digest(bundle);
        return expected is null || PluginBundle.DigestMatches(actual, expected) ? actual
            : throw new RpcException(RpcErrorCodes.InvalidParams, $"digest mismatch: the bundle is {actual}, not {expected}");
    }

    // ---- installs from the mesh: staged until an admin approves on the box ----

    private string PendingDir => Path.Combine(_store.Root, "pending");

    /// <summary>
    /// Checks <paramref name="bundle"/> as an install would (digest, archive, manifest, capabilities, an import in a sandbox
    /// job), keeps it in <c>pending/</c> and asks the agent for an admin's approval; returns the approval. Nothing is
    /// installed until <see cref="InstallApprovedAsync"/>.
    /// </summary>
    public async Task<Approval> StageAsync(byte[] bundle, string digest, string source, string requestedBy, bool load, string agentSocket, CancellationToken ct)
    {
        var actual = DigestOf(bundle, digest);
        PluginInstallApproval plugin;
        await _changing.WaitAsync(ct);
        try
        {
            var (_, manifest, functions) = await CheckLockedAsync(bundle, ct);
            var staged = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            Directory.CreateDirectory(PendingDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            foreach (var old in Directory.EnumerateFiles(PendingDir).Where(f => _time.GetUtcNow() - File.GetLastWriteTimeUtc(f) > TimeSpan.FromHours(25)))
            {
                File.Delete(old); // approvals last 24 hours
            }
            AtomicFile.Write(Path.Combine(PendingDir, staged + ".tgz"), Convert.ToBase64String(bundle), UnixFileMode.UserRead | UnixFileMode.UserWrite, overwrite: false);
            var c = manifest.Capabilities;
            plugin = new PluginInstallApproval
            {
                PluginId = manifest.Id,
                Version = manifest.Version,
                Digest = actual,
                Source = source,
                Replaces = _store.Get(manifest.Id)?.Version,
                Functions = functions,
                Network = c.Hosts,
                Secrets = c.Secrets,
                Devices = c.Devices,
                MemoryMib = c.MemoryMib,
                TimeoutS = c.TimeoutSeconds,
                PythonDependencies = manifest.PythonDependencies,
                Staged = staged,
                Load = load,
            };
        }
        finally
        {
            ClearStaging();
            _changing.Release();
        }
        try
        {
            await using var agent = await JsonRpcClient.ConnectAsync(agentSocket, ct);
            return await agent.CallAsync(ApprovalMethods.RequestPlugin, new PluginApprovalRequest { RequestedBy = requestedBy, Plugin = plugin },
                PackagesJsonContext.Default.PluginApprovalRequest, PackagesJsonContext.Default.Approval, TimeSpan.FromSeconds(10), ct);
        }
        catch (Exception e) when (e is RpcException or IpcException)
        {
            File.Delete(Path.Combine(PendingDir, plugin.Staged + ".tgz"));
            throw new RpcException(RpcErrorCodes.Unavailable, "the agent, which keeps approvals, did not take the request: " + e.Message);
        }
    }

    /// <summary>Installs what <see cref="StageAsync"/> kept, once the agent says an admin approved it (its digest checked again).</summary>
    public async Task<PluginInstallResult> InstallApprovedAsync(PluginApproved approved, CancellationToken ct)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(approved.Staged, "^[0-9a-f]{24}$"))
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "staged must be 24 hex digits");
        }
        var path = Path.Combine(PendingDir, approved.Staged + ".tgz");
        if (!File.Exists(path))
        {
            throw new RpcException(RpcErrorCodes.NotFound, $"nothing is staged as {approved.Staged} (staged plugins are kept 24 hours)");
        }
        var bundle = Convert.FromBase64String(await File.ReadAllTextAsync(path, ct));
        try
        {
            return await InstallAsync(bundle, approved.Digest, $"mesh (approval {approved.ApprovalId})", approved.ApprovedBy, replace: true, approved.Load, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The checks of an install short of moving it into place: archive, manifest, capabilities, the import's functions.</summary>
    private async Task<(ExtractedPlugin Extracted, PluginManifest Manifest, IReadOnlyList<string> Functions)> CheckLockedAsync(byte[] bundle, CancellationToken ct)
    {
        ExtractedPlugin extracted;
        try
        {
            extracted = PluginArchive.Extract(bundle, PluginArchive.Detect(null, bundle), _store.StagingDir);
        }
        catch (PluginArchiveException e)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "the bundle is refused: " + e.Message);
        }
        try
        {
            var manifest = PluginManifest.Parse(await File.ReadAllTextAsync(Path.Combine(extracted.Root, "manifest.json"), ct), "manifest.json");
            RefuseUnavailable(manifest);
            var offer = await _sandbox.DescribeAsync(new SandboxPluginSpec
            {
                PluginId = manifest.Id,
                EntryPoint = manifest.EntryPoint,
                ClassName = manifest.ClassName,
                MemoryMib = manifest.Capabilities.MemoryMib,
                TimeoutS = manifest.Capabilities.TimeoutSeconds,
                Staging = Path.GetRelativePath(_store.StagingDir, extracted.Root),
            }, ct);
            return (extracted, manifest, Names(offer.Functions));
        }
        catch (PluginManifestException e)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "manifest.json: " + e.Message);
        }
    }

    private void ClearStaging()
    {
        if (Directory.Exists(_store.StagingDir))
        {
            foreach (var left in Directory.EnumerateDirectories(_store.StagingDir))
            {
                Directory.Delete(left, recursive: true);
            }
        }
    }

    /// <summary>Capabilities the box cannot grant yet are refused at install, never silently left out.</summary>
    private static void RefuseUnavailable(PluginManifest manifest)
    {
        var c = manifest.Capabilities;
        foreach (var (name, declared) in (ReadOnlySpan<(string, int)>)[("network", c.Hosts.Count), ("secrets", c.Secrets.Count), ("devices", c.Devices.Count)])
        {
            if (declared > 0)
            {
                throw new RpcException(RpcErrorCodes.Refused, $"{manifest.Id} declares capabilities.{name}, which this box cannot grant to plugins yet "
                    + "(docs/plugins.md, \"What is not built yet\"); a plugin without it installs");
            }
        }
    }

    public async Task<PluginInfo> LoadAsync(string id, bool remember, CancellationToken ct)
    {
        await _changing.WaitAsync(ct);
        try
        {
            await LoadLockedAsync(id, remember, ct);
            return await InfoAsync(id, ct);
        }
        finally
        {
            _changing.Release();
        }
    }

    private async Task LoadLockedAsync(string id, bool remember, CancellationToken ct)
    {
        var plugin = _store.Get(id) ?? throw NotInstalled(id);
        var state = await _sandbox.LoadAsync(new SandboxPluginSpec
        {
            PluginId = plugin.Id,
            EntryPoint = plugin.EntryPoint,
            ClassName = plugin.ClassName,
            MemoryMib = plugin.MemoryMib,
            TimeoutS = plugin.TimeoutSeconds,
        }, ct);
        var functions = new List<LoadedFunction>();
        if (state.Offer is { } offer)
        {
            foreach (var f in offer.Functions.EnumerateArray())
            {
                if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                    && f.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object)
                {
                    var description = f.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                    functions.Add(new LoadedFunction(plugin.Id, n.GetString()!, description, p.GetRawText()));
                }
            }
        }
        _loaded[id] = functions;
        if (remember)
        {
            Remember(id, loaded: true);
        }
        _log.LogInformation("plugin {Plugin} loaded: {Functions}", id, string.Join(", ", functions.Select(f => f.Name)));
        Changed?.Invoke();
        await PublishAsync("plugin_loaded", w =>
        {
            w.WriteString("plugin_id"u8, id);
            w.WriteStartArray("functions"u8);
            foreach (var f in functions)
            {
                w.WriteStringValue(f.Name);
            }
            w.WriteEndArray();
        });
    }

    public async Task<bool> UnloadAsync(string id, CancellationToken ct)
    {
        await _changing.WaitAsync(ct);
        try
        {
            _ = _store.Get(id) ?? throw NotInstalled(id);
            return await UnloadLockedAsync(id, remember: true, ct);
        }
        finally
        {
            _changing.Release();
        }
    }

    private async Task<bool> UnloadLockedAsync(string id, bool remember, CancellationToken ct, bool purge = false)
    {
        var was = _loaded.TryRemove(id, out _);
        if (remember)
        {
            Remember(id, loaded: false);
        }
        if (was)
        {
            Changed?.Invoke();
        }
        var stopped = await _sandbox.UnloadAsync(id, purge, ct);
        if (was || stopped.Value)
        {
            await PublishAsync("plugin_unloaded", w => w.WriteString("plugin_id"u8, id));
        }
        return was || stopped.Value;
    }

    public async Task<PluginInfo> RemoveAsync(string id, string removedBy, CancellationToken ct)
    {
        await _changing.WaitAsync(ct);
        try
        {
            var info = await InfoAsync(id, ct);
            await UnloadLockedAsync(id, remember: true, ct, purge: true);
            _store.Remove(id, removedBy); // the unload above took it off loaded.json
            _log.LogInformation("plugin {Plugin} removed by {By}", id, removedBy);
            return info with { State = "removed" };
        }
        finally
        {
            _changing.Release();
        }
    }

    // ---- calls ----

    public async ValueTask<byte[]> CallAsync(LoadedFunction function, DeviceCall call, CancellationToken ct)
    {
        var source = call.MetaJson is null ? null : SourceDevice(call.MetaJson);
        var plugin = _store.Get(function.PluginId);
        var timeout = TimeSpan.FromSeconds((plugin?.TimeoutSeconds ?? PluginManifestLimits.DefaultTimeoutSeconds) + 5);
        SandboxPluginCallResult outcome;
        try
        {
            outcome = await _sandbox.CallAsync(new SandboxPluginCall
            {
                PluginId = function.PluginId,
                Function = function.Name,
                Params = call.Params,
                SourceDevice = source,
            }, timeout, ct);
        }
        catch (Exception e) when (e is IpcException or RpcException)
        {
            throw new DeviceFunctionException($"plugin {function.PluginId} is not reachable: {e.Message}");
        }
        if (outcome.Error is { } error)
        {
            // The plugin's own message ("Error invoking ..."), or the runner's (timeout, crash): the mesh adds its prefix.
            throw new DeviceFunctionException(error.StartsWith("Error invoking ", StringComparison.Ordinal) && error.IndexOf(": ", StringComparison.Ordinal) is var at and > 0
                ? error[(at + 2)..] : error);
        }
        return Encoding.UTF8.GetBytes(outcome.Result?.GetRawText() ?? "null");
    }

    private static string? SourceDevice(string metaJson)
    {
        using var meta = JsonDocument.Parse(metaJson);
        return meta.RootElement.ValueKind == JsonValueKind.Object && meta.RootElement.TryGetProperty("source_device", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()![..Math.Min(64, s.GetString()!.Length)] : null;
    }

    /// <summary>The box device's extra functions: each plugin function as "{id}.name", and as "name" unless another has it.</summary>
    public IReadOnlyList<(FunctionSpec Spec, DeviceFunctionHandler Handler, TimeSpan Timeout)> MeshFunctions(IReadOnlySet<string> taken)
    {
        var list = new List<(FunctionSpec, DeviceFunctionHandler, TimeSpan)>();
        var names = new HashSet<string>(taken, StringComparer.Ordinal);
        var all = Functions.OrderBy(f => f.PluginId, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
        var bare = all.GroupBy(f => f.Name).Where(g => g.Count() == 1 && !taken.Contains(g.Key)).Select(g => g.Key).ToHashSet();
        foreach (var f in all)
        {
            var timeout = TimeSpan.FromSeconds((_store.Get(f.PluginId)?.TimeoutSeconds ?? PluginManifestLimits.DefaultTimeoutSeconds) + 10);
            var function = f;
            DeviceFunctionHandler handler = (call, ct) => CallAsync(function, call, ct);
            foreach (var name in bare.Contains(f.Name) ? [f.PluginId + "." + f.Name, f.Name] : new[] { f.PluginId + "." + f.Name })
            {
                if (names.Add(name))
                {
                    list.Add((new FunctionSpec(name, f.Description, f.ParametersJson), handler, timeout));
                }
            }
        }
        return list;
    }

    // ---- what admins see ----

    public async Task<PluginList> ListAsync(CancellationToken ct)
    {
        var states = await States(ct);
        return new PluginList([.. _store.List().Select(p => Info(p, states.GetValueOrDefault(p.Id)))]);
    }

    public async Task<PluginInfo> InfoAsync(string id, CancellationToken ct)
    {
        var plugin = _store.Get(id) ?? throw NotInstalled(id);
        return Info(plugin, (await States(ct)).GetValueOrDefault(id));
    }

    private async Task<Dictionary<string, SandboxPluginState>> States(CancellationToken ct)
    {
        try
        {
            return (await _sandbox.ListAsync(ct)).Plugins.ToDictionary(p => p.PluginId, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IpcException or RpcException)
        {
            return [];
        }
    }

    private PluginInfo Info(InstalledPlugin p, SandboxPluginState? state) => new()
    {
        Id = p.Id,
        Version = p.Version,
        Description = p.Description,
        Digest = p.Digest,
        Source = p.Source,
        EntryPoint = p.EntryPoint,
        ClassName = p.ClassName,
        InstalledBy = p.InstalledBy,
        InstalledAt = p.InstalledAt,
        Network = p.NetworkHosts,
        Secrets = p.DeclaredSecrets,
        Devices = p.Devices,
        MemoryMib = p.MemoryMib,
        TimeoutS = p.TimeoutSeconds,
        PythonDependencies = p.PythonDependencies,
        State = state?.State ?? "not loaded",
        Functions = [.. (_loaded.GetValueOrDefault(p.Id) ?? []).Select(f => new PluginFunctionInfo(f.Name, f.Description))],
        Restarts = state?.Restarts ?? 0,
        LastError = state?.LastError,
        LastOutput = state?.LastOutput,
        Calls = state?.Calls ?? 0,
    };

    private static RpcException NotInstalled(string id) =>
        new(RpcErrorCodes.NotFound, $"no plugin '{id}' is installed (see `boxbot plugins list`)");

    private static IReadOnlyList<string> Names(JsonElement functions) =>
        [.. functions.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out _)).Select(f => f.GetProperty("name").ToString())];

    // ---- which plugins are loaded, across restarts ----

    private List<string> Desired()
    {
        try
        {
            return File.Exists(DesiredFile)
                ? JsonSerializer.Deserialize(File.ReadAllText(DesiredFile), PluginHostJsonContext.Default.ListString) ?? []
                : [];
        }
        catch (JsonException e)
        {
            _log.LogError("{File} is damaged ({Reason}); no plugin is loaded at start", DesiredFile, e.Message);
            return [];
        }
    }

    private void Remember(string id, bool loaded)
    {
        var desired = Desired();
        desired.Remove(id);
        if (loaded)
        {
            desired.Add(id);
        }
        AtomicFile.WriteAllText(DesiredFile, JsonSerializer.Serialize(desired, PluginHostJsonContext.Default.ListString), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    // ---- events ----

    private Task PublishAsync(string name, Action<Utf8JsonWriter> write)
    {
        if (Publish is not { } publish)
        {
            return Task.CompletedTask;
        }
        return PublishQuietlyAsync(publish, name, Encoding.UTF8.GetString(WireJson.Object(write)));
    }

    private async Task PublishQuietlyAsync(Func<string, string, Task> publish, string name, string payload)
    {
        try
        {
            await publish(name, payload);
        }
        catch (Exception e) when (e is BoxBot.Mesh.MeshException or ObjectDisposedException or InvalidOperationException)
        {
            _log.LogDebug("event {Event} not published: {Reason}", name, e.Message);
        }
    }

    private async Task RelayEventsAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var batch = await _sandbox.EventsAsync(25_000, stop);
                foreach (var e in batch.Events)
                {
                    if (Publish is { } publish && _loaded.ContainsKey(e.PluginId))
                    {
                        await PublishQuietlyAsync(publish, e.Name, e.Payload.GetRawText());
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IpcException or RpcException)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), _time, stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var task in new[] { _events, _reconciling })
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    private sealed class PendingUpload(string id, DateTimeOffset started)
    {
        public string Id { get; } = id;
        public DateTimeOffset Started { get; } = started;
        public MemoryStream Bytes { get; } = new();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class PluginHostJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
