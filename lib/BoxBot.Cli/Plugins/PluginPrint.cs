using System.CommandLine;
using System.Globalization;
using System.Text;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

/// <summary>How installed plugins are shown, and the one-id commands (load, unload, reload, remove) all share.</summary>
internal static class PluginPrint
{
    public static string Info(PluginInfo p)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{p.Id} {p.Version}: {p.State}\n");
        if (p.Description.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {p.Description}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"  digest     {p.Digest}\n");
        text.Append(CultureInfo.InvariantCulture, $"  installed  {p.InstalledAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z by {p.InstalledBy} from {p.Source}\n");
        text.Append(CultureInfo.InvariantCulture, $"  limits     memory {p.MemoryMib} MiB, {p.TimeoutS} s a call; network {(p.Network.Count == 0 ? "none" : string.Join(", ", p.Network))}\n");
        if (p.PythonDependencies.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"  python     {string.Join(", ", p.PythonDependencies)}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"  functions  {(p.Functions.Count == 0 ? "-" : string.Join(", ", p.Functions.Select(f => f.Name)))}\n");
        if (p.Restarts > 0 || p.LastError is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"  restarts   {p.Restarts}{(p.LastError is { } e ? "; last: " + e : "")}\n");
        }
        if (p.LastOutput is { Length: > 0 } output)
        {
            text.Append(CultureInfo.InvariantCulture, $"  output     {output}\n");
        }
        return text.ToString();
    }

    /// <summary>`boxbot plugins VERB ID`: one call naming a plugin, its state printed after.</summary>
    public static Command IdCommand(string name, string method, string description, TimeSpan timeout)
    {
        var id = new Argument<string>("ID") { Description = "The plugin's id (see `boxbot plugins list`)." };
        var json = CommonOptions.Json();
        var command = new Command(name, description) { id, json };
        command.SetAction(async (parse, ct) =>
        {
            var (info, code) = await AgentCall.CallAsync(Daemons.PluginHost, method, new PluginIdRequest(parse.GetValue(id)!),
                PluginsJsonContext.Default.PluginIdRequest, PluginsJsonContext.Default.PluginInfo, timeout, ct);
            if (info is not null)
            {
                if (parse.GetValue(json))
                {
                    CliJson.Print(info, PluginsJsonContext.Default.PluginInfo);
                }
                else
                {
                    Console.Out.Write(Info(info));
                }
            }
            return code;
        });
        return command;
    }
}
