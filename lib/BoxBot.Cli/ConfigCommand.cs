using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Config;

namespace BoxBot.Cli;

internal static class ConfigCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var file = new Argument<string?>("FILE")
        {
            Description = "The file to check. Default: $BOXBOT_HOME/boxbot.toml when BOXBOT_HOME is set, else /etc/boxbot/boxbot.toml; " +
                          "the default file may be absent (the built-in defaults then apply, as the daemons do), a FILE you name may not.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var check = new Command("check",
            "Validate a configuration file without starting anything: TOML syntax, unknown sections and keys, types and ranges.\n" +
            "Each problem is printed as FILE:LINE:COLUMN: KEY: MESSAGE (FILE: MESSAGE for the file as a whole). --json: {\"file\", " +
            "\"exists\", \"ok\", \"errors\": [{\"file\", \"line\", \"column\", \"key\", \"message\"}]}. Exit code 0 when valid (or the default " +
            "file is absent), 1 otherwise.")
        { file, json };
        check.SetAction(parse =>
        {
            var named = parse.GetValue(file);
            var path = named ?? BoxPaths.FromEnvironment().ConfigFile;
            IReadOnlyList<ConfigError> errors = [];
            var exists = true;
            try
            {
                exists = (named is null ? ConfigLoader.LoadOrDefaults(path) : ConfigLoader.Load(path)).FromFile;
            }
            catch (ConfigException e)
            {
                errors = e.Errors;
            }
            if (parse.GetValue(json))
            {
                var report = new ConfigCheckReport(path, exists, errors.Count == 0, [.. errors.Select(e => e.Line == 0
                    ? new ConfigErrorReport(e.File, null, null, null, e.Message)
                    : new ConfigErrorReport(e.File, e.Line, e.Column, e.Key.Length == 0 ? null : e.Key, e.Message))]);
                CliJson.Print(report, CliJsonContext.Default.ConfigCheckReport);
            }
            else if (!exists)
            {
                Console.WriteLine($"{path}: absent, so the built-in defaults apply (packaging/boxbot.example.toml lists them)");
            }
            else if (errors.Count == 0)
            {
                Console.WriteLine($"{path}: ok");
            }
            else
            {
                foreach (var error in errors)
                {
                    Console.Error.WriteLine(error.ToString());
                }
                Console.Error.WriteLine($"{path}: {errors.Count} problem{(errors.Count == 1 ? "" : "s")}");
            }
            return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return new Command("config", "Work with the configuration file (one TOML file, a section per daemon; see packaging/boxbot.example.toml).") { check };
    }
}
