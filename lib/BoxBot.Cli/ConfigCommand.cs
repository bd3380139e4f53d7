using System.CommandLine;
using System.Text.Json;
using BoxBot.Config;

namespace BoxBot.Cli;

internal static class ConfigCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var file = new Argument<string?>("FILE")
        {
            Description = "The file to check. Default: $BOXBOT_HOME/boxbot.toml when BOXBOT_HOME is set, else /etc/boxbot/boxbot.toml.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var check = new Command("check",
            "Validate a configuration file without starting anything: TOML syntax, unknown sections and keys, types and ranges.\n" +
            "Each problem is printed as FILE:LINE:COLUMN: KEY: MESSAGE. Exit code 0 when valid, 1 otherwise.")
        { file, json };
        check.SetAction(parse =>
        {
            var path = parse.GetValue(file) ?? BoxPaths.FromEnvironment().ConfigFile;
            IReadOnlyList<ConfigError> errors;
            try
            {
                ConfigLoader.Load(path);
                errors = [];
            }
            catch (ConfigException e)
            {
                errors = e.Errors;
            }
            if (parse.GetValue(json))
            {
                var report = new ConfigCheckReport(path, errors.Count == 0,
                    [.. errors.Select(e => new ConfigErrorReport(e.File, e.Line, e.Column, e.Key, e.Message))]);
                Console.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ConfigCheckReport));
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
                Console.Error.WriteLine($"{path}: {errors.Count} problem(s)");
            }
            return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return new Command("config", "Work with the configuration file (one TOML file, a section per daemon; see packaging/boxbot.example.toml).") { check };
    }
}
