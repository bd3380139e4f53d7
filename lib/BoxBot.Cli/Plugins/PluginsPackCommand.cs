using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Plugins;

namespace BoxBot.Cli.Plugins;

internal static class PluginsPackCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("FOLDER") { Description = "The plugin's folder (with manifest.json)." };
        var output = new Option<string?>("--out") { Description = "Where to write the bundle (default: ID-VERSION.tgz in the current folder). An existing file is not overwritten." };
        var command = new Command("pack",
            "Pack a plugin folder into a bundle (tar.gz, the plugin under one folder named by its id) after checking it as `validate` does, " +
            "and print its digest (sha256:HEX), which an install from a URL or the mesh must name. The same files always make the same digest.")
        { path, output };
        command.SetAction(parse =>
        {
            var folder = Path.GetFullPath(parse.GetValue(path)!);
            if (!Directory.Exists(folder))
            {
                return Failures.Usage($"{folder}: no such folder");
            }
            return PluginChecks.Run(folder, check =>
            {
                var bundle = check.Bundle; // the folder as Check packed it
                var target = Path.GetFullPath(parse.GetValue(output) ?? $"{check.Manifest.Id}-{check.Manifest.Version}.tgz");
                if (File.Exists(target))
                {
                    return Failures.Fail($"{target} exists: an existing file is not overwritten (choose another --out)");
                }
                using (var file = new FileStream(target, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }))
                {
                    file.Write(bundle);
                }
                PluginChecks.Warn(check);
                Console.Out.WriteLine($"{check.Digest}  {target} ({bundle.Length} bytes)");
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
