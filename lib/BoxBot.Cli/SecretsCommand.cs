using System.CommandLine;
using System.Text;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class SecretsCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var list = new Command("list", "List the names of stored secrets, one a line (values are never shown). --json: {\"names\": [...]}.") { json };
        list.SetAction(async (parse, ct) =>
        {
            var (result, code) = await AgentCall.CallAsync(SecretMethods.List, new EmptyParams(), ContractsJsonContext.Default.EmptyParams,
                SandboxJsonContext.Default.SecretList, null, ct);
            if (result is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(result, SandboxJsonContext.Default.SecretList);
            }
            else if (result.Names.Count == 0)
            {
                await Console.Error.WriteLineAsync("boxbot: no secrets are stored (add one with `boxbot secrets set NAME`)");
            }
            else
            {
                Console.Write(string.Concat(result.Names.Select(n => n + "\n")));
            }
            return code;
        });

        var setName = Name();
        var setJson = CommonOptions.Json();
        var set = new Command("set",
            "Store a secret that scripts can use (as BOXBOT_SECRET_<NAME>) and nobody can read back; an existing one is replaced. " +
            "The value is read from stdin, so it never appears in the shell history or the process list: typed at a terminal it is " +
            "not shown and Enter ends it; from a pipe or file it is everything up to the end (one trailing newline is dropped). " +
            "At most 8 KiB; at most 64 secrets. Prints \"stored secret NAME\"; --json: {\"done\": true}.")
        { setName, setJson };
        set.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(setName)!;
            if (!SecretRules.IsValidName(name))
            {
                return Failures.Usage(NameRule(name));
            }
            string value;
            if (Console.IsInputRedirected)
            {
                value = await Console.In.ReadToEndAsync(ct);
                value = value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2] : value.EndsWith('\n') ? value[..^1] : value;
            }
            else if (ReadHidden($"Value of {name} (not shown; Enter ends it): ") is { } typed)
            {
                value = typed;
            }
            else
            {
                return Failures.Fail("nothing stored: the value was not finished (Ctrl-C or Ctrl-D)");
            }
            var (result, code) = await AgentCall.CallAsync(SecretMethods.Set, new SecretValue(name, value),
                SandboxJsonContext.Default.SecretValue, SandboxJsonContext.Default.Done, null, ct);
            if (result is not null)
            {
                Print(parse.GetValue(setJson), result, $"stored secret {name}");
            }
            return code;
        });

        var deleteName = Name();
        var deleteJson = CommonOptions.Json();
        var delete = new Command("delete", "Delete a stored secret. Prints \"deleted secret NAME\"; --json: {\"done\": true}. Exit code 1 when there is no such secret.")
        { deleteName, deleteJson };
        delete.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(deleteName)!;
            if (!SecretRules.IsValidName(name))
            {
                return Failures.Usage(NameRule(name));
            }
            var (result, code) = await AgentCall.CallAsync(SecretMethods.Delete, new SecretName(name),
                SandboxJsonContext.Default.SecretName, SandboxJsonContext.Default.Done, null, ct);
            if (result is { Value: false })
            {
                return Failures.Report(new Failure(ExitCodes.Failure, Failures.Kinds.NotFound, $"no such secret: {name} (`boxbot secrets list` shows them)"));
            }
            if (result is not null)
            {
                Print(parse.GetValue(deleteJson), result, $"deleted secret {name}");
            }
            return code;
        });
        return new Command("secrets",
            "Manage the secrets scripts may use (admins). Names: an upper-case letter, then upper-case letters, digits or '_'. Values are " +
            "stored in the agent's secrets.json (mode 0600), handed only to jobs that name them, and never shown again.")
        { list, set, delete };
    }

    private static Argument<string> Name() => new("NAME") { Description = "The secret's name, e.g. WEATHER_API_KEY." };

    private static string NameRule(string name) =>
        $"'{name}' is not a secret name: an upper-case letter, then upper-case letters, digits or '_' (at most 64), such as WEATHER_API_KEY";

    private static void Print(bool json, Done result, string text)
    {
        if (json)
        {
            CliJson.Print(result, SandboxJsonContext.Default.Done);
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    /// <summary>A line typed at the terminal without echoing it (Backspace works); null when the person gave up (Ctrl-C, Ctrl-D).</summary>
    private static string? ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var value = new StringBuilder();
        var treatControlC = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                switch (key.KeyChar)
                {
                    case '\r' or '\n':
                        Console.Error.WriteLine();
                        return value.ToString();
                    case '\x03' or '\x04':
                        Console.Error.WriteLine();
                        return null;
                    case '\b' or '\x7f':
                        if (value.Length > 0)
                        {
                            value.Length--;
                        }
                        break;
                    default:
                        if (key.Key == ConsoleKey.Backspace && value.Length > 0)
                        {
                            value.Length--;
                        }
                        else if (!char.IsControl(key.KeyChar))
                        {
                            value.Append(key.KeyChar);
                        }
                        break;
                }
            }
        }
        finally
        {
            Console.TreatControlCAsInput = treatControlC;
        }
    }
}
