using System.Text.Json.Serialization.Metadata;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.PluginHost.Plugins;

/// <summary>
/// The plugin host's client of the sandbox runner's plugin methods: one connection to <c>sandbox.sock</c>, shared by
/// concurrent calls and made again when it is lost.
/// </summary>
internal sealed class SandboxPlugins(string socketPath) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private JsonRpcClient? _client;

    public Task<SandboxPluginState> LoadAsync(SandboxPluginSpec spec, CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.Load, spec, PluginsJsonContext.Default.SandboxPluginSpec, PluginsJsonContext.Default.SandboxPluginState, TimeSpan.FromSeconds(45), ct);

    public Task<SandboxPluginOffer> DescribeAsync(SandboxPluginSpec spec, CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.Describe, spec, PluginsJsonContext.Default.SandboxPluginSpec, PluginsJsonContext.Default.SandboxPluginOffer, TimeSpan.FromSeconds(45), ct);

    public Task<Done> UnloadAsync(string id, bool purgeData, CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.Unload, new SandboxPluginId { PluginId = id, PurgeData = purgeData }, PluginsJsonContext.Default.SandboxPluginId,
            PluginsJsonContext.Default.Done, TimeSpan.FromSeconds(15), ct);

    public Task<SandboxPluginCallResult> CallAsync(SandboxPluginCall call, TimeSpan timeout, CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.Call, call, PluginsJsonContext.Default.SandboxPluginCall, PluginsJsonContext.Default.SandboxPluginCallResult, timeout, ct);

    public Task<SandboxPluginStates> ListAsync(CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.List, new EmptyParams(), PluginsJsonContext.Default.EmptyParams, PluginsJsonContext.Default.SandboxPluginStates, TimeSpan.FromSeconds(5), ct);

    public Task<SandboxPluginEvents> EventsAsync(int waitMs, CancellationToken ct) =>
        CallAsync(SandboxPluginMethods.Events, new SandboxPluginEventsRequest(waitMs), PluginsJsonContext.Default.SandboxPluginEventsRequest,
            PluginsJsonContext.Default.SandboxPluginEvents, TimeSpan.FromMilliseconds(waitMs + 5000), ct);

    private async Task<TResult> CallAsync<TParams, TResult>(string method, TParams parameters, JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType,
        TimeSpan timeout, CancellationToken ct)
    {
        var client = await ClientAsync(ct);
        try
        {
            return await client.CallAsync(method, parameters, paramsType, resultType, timeout, ct);
        }
        catch (IpcException) when (!client.IsConnected)
        {
            // The runner restarted: once more, on a fresh connection.
            return await (await ClientAsync(ct)).CallAsync(method, parameters, paramsType, resultType, timeout, ct);
        }
    }

    private async Task<JsonRpcClient> ClientAsync(CancellationToken ct)
    {
        if (_client is { IsConnected: true } ready)
        {
            return ready;
        }
        await _connecting.WaitAsync(ct);
        try
        {
            if (_client is { IsConnected: true } other)
            {
                return other;
            }
            if (_client is not null)
            {
                await _client.DisposeAsync();
            }
            _client = await JsonRpcClient.ConnectAsync(socketPath, ct);
            return _client;
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
        _connecting.Dispose();
    }
}
