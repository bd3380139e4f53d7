using System.ComponentModel;
using System.Diagnostics;

namespace BoxBot.Cli.Doctor;

/// <summary>What a helper program said, or why it could not say anything.</summary>
/// <param name="ExitCode">Its exit code; null when it did not run or did not finish.</param>
/// <param name="Problem">"not installed", "did not finish within 5 s": set when <paramref name="ExitCode"/> is null.</param>
internal sealed record ChildResult(int? ExitCode, string Stdout, string Stderr, string? Problem)
{
    public bool Ran => ExitCode is not null;

    public bool NotInstalled { get; init; }
}

/// <summary>
/// Runs systemctl, sshd, nft, getent and python3 for doctor: stdin closed, output captured, and killed (with its
/// children) at the deadline, so a wedged helper makes a finding, never a hang.
/// </summary>
internal static class ChildProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static async Task<ChildResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultTimeout;
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        // Fixed, parseable output whatever the admin's locale, and no pager waiting for a key.
        info.Environment["LC_ALL"] = "C";
        info.Environment["SYSTEMD_PAGER"] = "";
        info.Environment["SYSTEMD_COLORS"] = "0";
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception("not started");
        }
        catch (Win32Exception e)
        {
            var missing = !file.Contains('/', StringComparison.Ordinal) ? FindInPath(file) is null : !File.Exists(file);
            return new ChildResult(null, "", "", missing ? $"{file}: not installed" : $"{file}: cannot run: {e.Message}") { NotInstalled = missing };
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(limit);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
                // A grandchild could hold the pipes open after the child exits: the deadline covers the reads too.
                return new ChildResult(process.ExitCode, await stdout.WaitAsync(deadline.Token), await stderr.WaitAsync(deadline.Token), null);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It ended between the deadline and the kill.
                }
                cancellationToken.ThrowIfCancellationRequested();
                return new ChildResult(null, "", "", $"{file} {string.Join(' ', info.ArgumentList)}: no answer within {limit.TotalSeconds:0.#} s (killed)");
            }
        }
    }

    /// <summary>The full path of <paramref name="name"/> on $PATH (plus the sbin folders a non-root PATH lacks), or null.</summary>
    public static string? FindInPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var folders = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return folders.Select(f => Path.Combine(f, name)).FirstOrDefault(File.Exists);
    }
}
