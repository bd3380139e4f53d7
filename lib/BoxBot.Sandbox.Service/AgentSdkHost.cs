using System.Text.Json.Serialization.Metadata;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.Sandbox.Sdk;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// A job's <c>bb.secrets</c> and <c>bb.skill</c> calls, forwarded to the agent, which owns the secret store and the skills. The SDK
/// session has already validated names and values; the agent validates them again. A refusal by
/// the agent reaches the script as a readable <see cref="SdkRefusedException"/>; an unreachable
/// agent as a refusal too, never as a crash of the job's session.
/// </summary>
internal sealed class AgentSdkHost(string agentSocket, TimeSpan timeout) : ISdkHost
{
    public async ValueTask StoreSecretAsync(string name, string value, CancellationToken ct) =>
        await CallAsync(SdkSecretMethods.Store, new SecretValue(name, value), SandboxJsonContext.Default.SecretValue, SandboxJsonContext.Default.Done, ct);

    public async ValueTask<IReadOnlyList<string>> ListSecretsAsync(CancellationToken ct) =>
        (await CallAsync(SdkSecretMethods.List, new EmptyParams(), ContractsJsonContext.Default.EmptyParams, SandboxJsonContext.Default.SecretList, ct)).Names;

    public async ValueTask<bool> HasSecretAsync(string name, CancellationToken ct) =>
        (await CallAsync(SdkSecretMethods.Has, new SecretName(name), SandboxJsonContext.Default.SecretName, SandboxJsonContext.Default.SecretPresence, ct)).Has;

    public async ValueTask<bool> DeleteSecretAsync(string name, CancellationToken ct) =>
        (await CallAsync(SdkSecretMethods.Delete, new SecretName(name), SandboxJsonContext.Default.SecretName, SandboxJsonContext.Default.Done, ct)).Value;

    public async ValueTask SaveSkillAsync(string name, string description, string body, CancellationToken ct) =>
        await CallAsync(SdkSkillMethods.Save, new SkillSaveRequest(name, description, body), SandboxJsonContext.Default.SkillSaveRequest,
            SandboxJsonContext.Default.Done, ct, "the skill catalog");

    private async Task<TResult> CallAsync<TParams, TResult>(string method, TParams parameters, JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType, CancellationToken ct,
        string what = "the secret store")
    {
        try
        {
            await using var agent = await JsonRpcClient.ConnectAsync(agentSocket, ct);
            return await agent.CallAsync(method, parameters, paramsType, resultType, timeout, ct);
        }
        catch (RpcException e) when (e.Code is RpcErrorCodes.InvalidParams or RpcErrorCodes.Refused)
        {
            throw new SdkRefusedException(e.Message);
        }
        catch (Exception e) when (e is IpcException or RpcException)
        {
            throw new SdkRefusedException(what + " is not reachable right now");
        }
    }
}
