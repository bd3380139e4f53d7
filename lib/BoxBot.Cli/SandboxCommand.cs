using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class SandboxCommand
{
    // The sandbox's own floor for a job's memory (below it python3 cannot start).
    private const int MinMemoryMiB = 32;

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The Python script to run (UTF-8 text); - reads it from stdin." };
        var secrets = new Option<string[]>("--secret")
        {
            Description = "A secret the script may use, as the environment variable BOXBOT_SECRET_<NAME>. Repeat for more. Stored with `boxbot secrets set`.",
            HelpName = "NAME",
            AllowMultipleArgumentsPerToken = false,
        };
        var timeout = new Option<int?>("--timeout") { Description = "Wall-clock limit in seconds: 1 to [sandbox] timeout_s (30 by default, also the most).", HelpName = "S" };
        var memory = new Option<int?>("--memory") { Description = $"Memory limit in MiB: {MinMemoryMiB} to [sandbox] memory_mib (256 by default, also the most).", HelpName = "MiB" };
        var network = new Option<string>("--network")
        {
            Description = "none (the default: no network at all) or internet (HTTP and HTTPS to public addresses, through the box's egress proxy).",
            DefaultValueFactory = _ => "none",
        };
        network.AcceptOnlyFromAmong("none", "internet");
        var save = new Option<string?>("--save-attachments")
        {
            Description = "Write the files the script returned with bb.output.attach into this folder (which must exist, checked before the job " +
                          "runs); a file that is already there is not overwritten.",
            HelpName = "DIR",
        };
        var json = CommonOptions.Json();
        var run = new Command("run",
            "Run a Python script in the sandbox, through the agent, as an admin. The script runs confined: its own user, no new processes, " +
            "no network unless asked, no files but its workspace, bounded CPU, memory, disk, output and time.\n" +
            "Prints the script's stdout and stderr, then a summary on stderr naming the limit that ended the job, if one did. --json prints " +
            "one object instead: job_id, status (ok | error | killed), exit_code, killed_by (timeout | cpu | memory | output | disk | tasks | " +
            "seccomp | signal), syscall, stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, sdk_calls, attachments ([{name, " +
            "size, content (base64)}]), error, explanation (which limit ended the job, its value and what changes it).\n" +
            "Exit code 0 when the job ends ok, 3 when it fails or is killed, 1 when the command itself fails, 2 for a usage error.")
        { file, secrets, timeout, memory, network, save, json };
        run.SetAction(async (parse, cancellationToken) =>
        {
            if (Check(parse.GetValue(timeout), parse.GetValue(memory), parse.GetValue(secrets) ?? [], parse.GetValue(save)) is { } invalid)
            {
                return Failures.Report(invalid);
            }
            var (script, failure) = await ScriptFile.ReadAsync(parse.GetValue(file)!, cancellationToken);
            if (failure is not null)
            {
                return Failures.Report(failure);
            }
            var request = new SandboxRunRequest
            {
                Script = script!,
                Secrets = parse.GetValue(secrets) ?? [],
                TimeoutSeconds = parse.GetValue(timeout),
                MemoryMiB = parse.GetValue(memory),
                Network = parse.GetValue(network),
            };
            var (result, code) = await AgentCall.CallAsync(SandboxMethods.Run, request, SandboxJsonContext.Default.SandboxRunRequest,
                SandboxJsonContext.Default.SandboxRunResult, TimeSpan.FromHours(1), cancellationToken);
            if (result is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(result, SandboxJsonContext.Default.SandboxRunResult);
            }
            else
            {
                Console.Write(result.Stdout);
                Console.Error.Write(result.Stderr);
                foreach (var a in result.Attachments)
                {
                    Console.Error.WriteLine($"boxbot: attachment {a.Name} ({a.Size} bytes)");
                }
                Console.Error.WriteLine(Summary(result));
            }
            if (parse.GetValue(save) is { } folder && !await SaveAsync(Path.GetFullPath(folder), result.Attachments, cancellationToken))
            {
                return ExitCodes.Failure;
            }
            return result.Status == "ok" ? ExitCodes.Ok : ExitCodes.JobFailed;
        });
        return new Command("sandbox", "Run scripts in the sandbox (admins).") { run };
    }

    /// <summary>
    /// What can be known to be wrong before the job runs (and so before any of its effects): the limits' floors, secret
    /// names, the attachments folder. The ceilings are the running sandbox's configuration, which may not be the file this
    /// shell reads (`dev up --config`), so the sandbox checks those and says the real figure (also a usage error).
    /// </summary>
    private static Failure? Check(int? timeout, int? memory, string[] secrets, string? saveFolder)
    {
        if (timeout is < 1)
        {
            return Usage($"--timeout {timeout}: a job's time limit is at least 1 second (at most [sandbox] timeout_s, 30 by default)");
        }
        if (memory is < MinMemoryMiB)
        {
            return Usage($"--memory {memory}: a job's memory limit is at least {MinMemoryMiB} MiB (at most [sandbox] memory_mib, 256 by default)");
        }
        if (secrets.FirstOrDefault(n => !SecretRules.IsValidName(n)) is { } bad)
        {
            return Usage($"--secret {bad}: a secret's name is an upper-case letter, then upper-case letters, digits or '_' (such as WEATHER_API_KEY)");
        }
        if (saveFolder is not null && !Directory.Exists(saveFolder))
        {
            return Usage($"--save-attachments {saveFolder}: no such folder (make it first; nothing was run)");
        }
        return null;
    }

    private static Failure Usage(string message) => new(ExitCodes.Usage, Failures.Kinds.Usage, message);

    /// <summary>Attachment names come from a script: only their last path part is used, and nothing is overwritten.</summary>
    private static async Task<bool> SaveAsync(string folder, IReadOnlyList<SandboxAttachment> attachments, CancellationToken cancellationToken)
    {
        var saved = true;
        foreach (var a in attachments)
        {
            var name = Path.GetFileName(a.Name);
            if (name.Length == 0 || name is "." or "..")
            {
                await Console.Error.WriteLineAsync("boxbot: an attachment with an unusable name was not saved");
                continue;
            }
            var path = Path.Combine(folder, name);
            if (Path.Exists(path))
            {
                await Console.Error.WriteLineAsync($"boxbot: {path} is already there: not overwritten, this attachment was not saved");
                saved = false;
                continue;
            }
            try
            {
                await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                await file.WriteAsync(a.Content, cancellationToken);
                await Console.Error.WriteLineAsync($"boxbot: saved {path}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"boxbot: {path}: not saved: {e.Message}");
                saved = false;
            }
        }
        return saved;
    }

    private static string Summary(SandboxRunResult r)
    {
        var what = r.Status switch
        {
            "ok" => "ok",
            "killed" => $"killed by {r.KilledBy}{(r.Syscall is null ? "" : $" ({r.Syscall})")}",
            _ => r.Error ?? $"exit code {r.ExitCode}",
        };
        var truncated = r.StdoutTruncated || r.StderrTruncated ? "; output truncated" : "";
        var summary = $"boxbot: job {r.JobId}: {what} after {r.DurationMs} ms{truncated}";
        if (r.Explanation is not { } explanation)
        {
            return summary;
        }
        // The sandbox names the request field and the config key; here the field is this command's option.
        var option = r.KilledBy switch
        {
            "memory" => " (this command: --memory MiB)",
            "timeout" => " (this command: --timeout S)",
            _ when explanation.Contains("network \"internet\"", StringComparison.Ordinal) => " (this command: --network internet)",
            _ => "",
        };
        return $"{summary}\nboxbot: {explanation}{option}";
    }
}
