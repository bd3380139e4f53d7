using System.CommandLine;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class SecretsCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var list = new Command("list", "List the names of stored secrets (values are never shown).") { json };
        list.SetAction(async (parse, ct) =>
        {
            var (result, code) = await AgentCall.CallAsync(SecretMethods.List, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
                SandboxJsonContext.Default.SecretList, null, ct);
            if (result is not null)
            {
                Console.Write(parse.GetValue(json)
                    ? JsonSerializer.Serialize(result, SandboxJsonContext.Default.SecretList) + "\n"
                    : string.Concat(result.Names.Select(n => n + "\n")));
            }
            return code;
        });

        var setName = Name();
        var set = new Command("set",
            "Store a secret that scripts can use (as BOXBOT_SECRET_<NAME>) and nobody can read back. The value is read from stdin " +
            "(one trailing newline is dropped), so it never appears in the shell history or the process list. At most 8 KiB; at most 64 secrets.")
        { setName };
        set.SetAction(async (parse, ct) =>
        {
            if (!Console.IsInputRedirected)
            {
                await Console.Error.WriteLineAsync("Type the value, then Enter and Ctrl-D:");
            }
            var value = await Console.In.ReadToEndAsync(ct);
            value = value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2] : value.EndsWith('\n') ? value[..^1] : value;
            var (result, code) = await AgentCall.CallAsync(SecretMethods.Set, new SecretValue(parse.GetValue(setName)!, value),
                SandboxJsonContext.Default.SecretValue, SandboxJsonContext.Default.Done, null, ct);
            return code;
        });

        var deleteName = Name();
        var delete = new Command("delete", "Delete a stored secret. Exit code 1 when there is no such secret.") { deleteName };
        delete.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(deleteName)!;
            var (result, code) = await AgentCall.CallAsync(SecretMethods.Delete, new SecretName(name),
                SandboxJsonContext.Default.SecretName, SandboxJsonContext.Default.Done, null, ct);
            if (result is { Value: false })
            {
                await Console.Error.WriteLineAsync($"boxbot: no such secret: {name}");
                return ExitCodes.Failure;
            }
            return code;
        });
        return new Command("secrets", "Manage the secrets scripts may use (admins). Names: an upper-case letter, then upper-case letters, digits or '_'.")
        { list, set, delete };
    }

    private static Argument<string> Name() => new("NAME") { Description = "The secret's name, e.g. WEATHER_API_KEY." };
}
