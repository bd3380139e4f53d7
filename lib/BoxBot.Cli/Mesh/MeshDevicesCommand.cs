using System.CommandLine;
using System.Globalization;
using System.Text;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

internal static class MeshDevicesCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("devices",
            "List the devices the box sees on the mesh (from a registry when one answers, else from their presence and heartbeats): " +
            "id, type, online, last seen, where the description came from, and their functions. The box's own two devices are among them.")
        { json };
        command.SetAction(async (parse, ct) =>
        {
            var (list, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.Devices, new EmptyParams(),
                ContractsJsonContext.Default.EmptyParams, MeshJsonContext.Default.MeshDeviceList, null, ct);
            if (list is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(list, MeshJsonContext.Default.MeshDeviceList);
            }
            else if (list.Devices.Count == 0)
            {
                await Console.Error.WriteLineAsync("boxbot: no devices seen on the mesh yet");
            }
            else
            {
                Console.Write(Table(list.Devices));
                if (!list.Registry)
                {
                    await Console.Error.WriteLineAsync("boxbot: no registry answered; devices come from their presence (registry-less discovery)");
                }
            }
            return code;
        });
        return command;
    }

    private static string Table(IReadOnlyList<MeshDeviceSummary> devices)
    {
        var idWidth = Math.Max(6, devices.Max(d => d.DeviceId.Length));
        var typeWidth = Math.Max(4, devices.Max(d => (d.DeviceType ?? "-").Length));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"DEVICE".PadRight(idWidth)}  {"TYPE".PadRight(typeWidth)}  STATE    LAST SEEN             SOURCE    FUNCTIONS\n");
        foreach (var d in devices)
        {
            var seen = d.LastSeen is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "-";
            text.Append(CultureInfo.InvariantCulture,
                $"{d.DeviceId.PadRight(idWidth)}  {(d.DeviceType ?? "-").PadRight(typeWidth)}  {(d.Online ? "online" : "offline"),-7}  {seen,-20}  {d.Source,-8}  {string.Join(", ", d.Functions)}\n");
        }
        return text.ToString();
    }
}
