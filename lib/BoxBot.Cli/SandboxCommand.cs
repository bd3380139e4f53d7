using System.CommandLine;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class SandboxCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The Python script to run." };
        var secrets = new Option<string[]>("--secret")
        {
            Description = "A secret the script may use, as the environment variable BOXBOT_SECRET_<NAME>. Repeat for more. Stored with `boxbot secrets set`.",
            HelpName = "NAME",
            AllowMultipleArgumentsPerToken = false,
        };
        var timeout = new Option<int?>("--timeout") { Description = "Wall-clock limit in seconds (at most [sandbox] timeout_s).", HelpName = "S" };
        var memory = new Option<int?>("--memory") { Description = "Memory limit in MiB (at most [sandbox] memory_mib).", HelpName = "MiB" };
        var network = new Option<string>("--network") { Description = "none (default: no network at all) or internet.", DefaultValueFactory = _ => "none" };
        network.AcceptOnlyFromAmong("none", "internet");
        var save = new Option<DirectoryInfo?>("--save-attachments")
        {
            Description = "Write the files the script returned with bb.output.attach into this folder (which must exist); existing files are not overwritten.",
            HelpName = "DIR",
        };
        var json = CommonOptions.Json();
        var run = new Command("run",
            "Run a Python script in the sandbox, through the agent, as an admin. The script runs confined: its own user, no new processes, " +
            "no network unless asked, no files but its workspace, bounded CPU, memory, disk, output and time.\n" +
            "Prints the script's stdout and stderr, then a summary on stderr. --json prints one object instead: status, exit_code, killed_by, " +
            "syscall, stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, sdk_calls, attachments.\n" +
            "Exit code 0 when the job ends ok, 3 when it fails or is killed, 1 or 2 when the command itself fails.")
        { file, secrets, timeout, memory, network, save, json };
        run.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"boxbot: {path.FullName}: no such file");
                return ExitCodes.Failure;
            }
            var request = new SandboxRunRequest
            {
                Script = await File.ReadAllTextAsync(path.FullName, cancellationToken),
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
                Console.WriteLine(JsonSerializer.Serialize(result, SandboxJsonContext.Default.SandboxRunResult));
            }
            else
            {
                Console.Write(result.Stdout);
                await Console.Error.WriteAsync(result.Stderr);
                foreach (var a in result.Attachments)
                {
                    await Console.Error.WriteLineAsync($"boxbot: attachment {a.Name} ({a.Size} bytes)");
                }
                await Console.Error.WriteLineAsync(Summary(result));
            }
            if (parse.GetValue(save) is { } folder && !await SaveAsync(folder, result.Attachments, cancellationToken))
            {
                return ExitCodes.Failure;
            }
            return result.Status == "ok" ? ExitCodes.Ok : ExitCodes.JobFailed;
        });
        return new Command("sandbox", "Run scripts in the sandbox (admins).") { run };
    }

    /// <summary>Attachment names come from a script: only their last path part is used, and nothing is overwritten.</summary>
    private static async Task<bool> SaveAsync(DirectoryInfo folder, IReadOnlyList<SandboxAttachment> attachments, CancellationToken cancellationToken)
    {
        if (!folder.Exists)
        {
            await Console.Error.WriteLineAsync($"boxbot: {folder.FullName}: no such folder; attachments not saved");
            return false;
        }
        foreach (var a in attachments)
        {
            var name = Path.GetFileName(a.Name);
            if (name.Length == 0 || name is "." or "..")
            {
                await Console.Error.WriteLineAsync("boxbot: an attachment with an unusable name was not saved");
                continue;
            }
            var path = Path.Combine(folder.FullName, name);
            try
            {
                await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                await file.WriteAsync(a.Content, cancellationToken);
                await Console.Error.WriteLineAsync($"boxbot: saved {path}");
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"boxbot: {path}: not saved: {e.Message}");
                return false;
            }
        }
        return true;
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
        return $"boxbot: job {r.JobId}: {what} after {r.DurationMs} ms{truncated}";
    }
}
