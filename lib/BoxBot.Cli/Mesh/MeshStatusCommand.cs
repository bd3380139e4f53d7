using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

internal static class MeshStatusCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("status",
            "Show the box on the mesh: connected or why not, the broker (local or remote) and its URL, the tenant, the box's two devices, " +
            "the registry, and counters of calls answered, refused, rate-limited and denied by the broker. Exit code 1 when not connected.")
        { json };
        command.SetAction(async (parse, ct) =>
        {
            var (status, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.Status, new EmptyParams(),
                ContractsJsonContext.Default.EmptyParams, MeshJsonContext.Default.MeshStatus, null, ct);
            if (status is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(status, MeshJsonContext.Default.MeshStatus);
            }
            else
            {
                Console.WriteLine($"mesh: {status.State}");
                Console.WriteLine($"broker: {status.Broker}{(status.Url is null ? "" : " " + status.Url)}");
                Console.WriteLine($"tenant: {status.Tenant}");
                Console.WriteLine(status.AdminDevice is null ? $"devices: {status.BoxId} (the box; no admin device on a remote broker)" : $"devices: {status.BoxId} (the box), {status.AdminDevice} (its admin functions)");
                if (status.Registry is not null)
                {
                    Console.WriteLine($"registry: {status.Registry}");
                }
                Console.WriteLine($"calls: {status.Calls} answered, {status.Refused} refused, {status.RateLimited} rate-limited; {status.DeniedByBroker} denied by the broker");
            }
            return status.State == "connected" ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }
}
