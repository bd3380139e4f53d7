using System.CommandLine;
using System.Globalization;
using System.Text;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Plugins;

internal static class PluginsListCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List the installed plugins: id, version, state (running, restarting, failed, not loaded) and functions.") { json };
        command.SetAction(async (parse, ct) =>
        {
            var (list, code) = await AgentCall.CallAsync(Daemons.PluginHost, PluginMethods.List, new EmptyParams(),
                PluginsJsonContext.Default.EmptyParams, PluginsJsonContext.Default.PluginList, null, ct);
            if (list is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(list, PluginsJsonContext.Default.PluginList);
            }
            else if (list.Plugins.Count == 0)
            {
                await Console.Error.WriteLineAsync("boxbot: no plugins installed (install one with `boxbot plugins install PATH`)");
            }
            else
            {
                var width = Math.Max(6, list.Plugins.Max(p => p.Id.Length));
                var text = new StringBuilder();
                text.Append(CultureInfo.InvariantCulture, $"{"PLUGIN".PadRight(width)}  {"VERSION",-10}  {"STATE",-11}  FUNCTIONS\n");
                foreach (var p in list.Plugins)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{p.Id.PadRight(width)}  {p.Version,-10}  {p.State,-11}  {string.Join(", ", p.Functions.Select(f => f.Name))}\n");
                }
                Console.Out.Write(text.ToString());
            }
            return code;
        });
        return command;
    }
}
