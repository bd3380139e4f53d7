using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent.Mesh;

/// <summary>The agent's way to the mesh: the plugin host's socket (the agent never opens a NATS connection itself).</summary>
public sealed class MeshCalls(string pluginsSocket)
{
    public async Task<MeshDeviceList> DevicesAsync(CancellationToken cancellationToken)
    {
        await using var client = await JsonRpcClient.ConnectAsync(pluginsSocket, cancellationToken);
        return await client.CallAsync(MeshMethods.Devices, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
            MeshJsonContext.Default.MeshDeviceList, TimeSpan.FromSeconds(10), cancellationToken);
    }

    public async Task<MeshDeviceDescription> DescribeAsync(string deviceId, CancellationToken cancellationToken)
    {
        await using var client = await JsonRpcClient.ConnectAsync(pluginsSocket, cancellationToken);
        return await client.CallAsync(MeshMethods.Describe, new MeshDeviceId(deviceId), MeshJsonContext.Default.MeshDeviceId,
            MeshJsonContext.Default.MeshDeviceDescription, TimeSpan.FromSeconds(10), cancellationToken);
    }

    public async Task<MeshInvokeResult> InvokeAsync(MeshInvokeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var client = await JsonRpcClient.ConnectAsync(pluginsSocket, cancellationToken);
        var wait = TimeSpan.FromMilliseconds((request.TimeoutMs ?? 60_000) + 5_000);
        return await client.CallAsync(MeshMethods.Invoke, request, MeshJsonContext.Default.MeshInvokeRequest,
            MeshJsonContext.Default.MeshInvokeResult, wait, cancellationToken);
    }
}
