using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using BoxBot.Contracts;

namespace BoxBot.Agent.Internal;

/// <summary>
/// Runs a module of the system interpreter (pip, venv) as a child of the agent: <c>python3 -I</c> (no user site,
/// no PYTHON* variables, no current folder on sys.path), an environment rebuilt from nothing, umask 022 so the sandbox
/// user can read what it writes, stdin closed, output captured up to a cap, and a time limit that kills the whole
/// process tree. Never the venv's own interpreter: an approved package's .pth file would run in the agent's context.
/// </summary>
internal sealed class PythonTool(string python, TimeSpan timeout)
{
    // The umask is set inside the child because .NET cannot set it between fork and exec, and the agent's own
    // (under systemd, UMask=0077) would leave the venv unreadable for the sandbox user.
    private const string Launcher =
        "import os, runpy, sys; os.umask(0o022); sys.argv = sys.argv[1:]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)";
    private const int OutputCap = 64 * 1024;

    public string Python => python;

    public TimeSpan Timeout => timeout;

    /// <summary><c>python3 -I -c LAUNCHER module args...</c> in <paramref name="scratch"/>, which is also HOME and TMPDIR.</summary>
    public Task<ToolResult> RunModuleAsync(string module, IEnumerable<string> args, string scratch, CancellationToken cancellationToken) =>
        RunAsync(module, ["-I", "-c", Launcher, module, .. args], scratch, cancellationToken);

    /// <summary>The interpreter's <c>X.Y</c>, which names the venv's <c>lib/pythonX.Y/site-packages</c>.</summary>
    public async Task<string> VersionAsync(string scratch, CancellationToken cancellationToken)
    {
        var r = await RunAsync(python, ["-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], scratch, cancellationToken);
        var version = r.Stdout.Trim();
        return r.ExitCode == 0 && version.Length is > 2 and < 8 && version.All(c => char.IsAsciiDigit(c) || c == '.')
            ? version
            : throw new PackageException($"{python} did not report its version (exit code {r.ExitCode}): {r.ErrorSummary()}", RpcErrorCodes.Unavailable);
    }

    private async Task<ToolResult> RunAsync(string what, IReadOnlyList<string> args, string scratch, CancellationToken cancellationToken)
    {
        if (!File.Exists(python))
        {
            throw new PackageException($"{python} does not exist ([sandbox] python); install python3, python3-pip and python3-venv", RpcErrorCodes.Unavailable);
        }
        var info = new ProcessStartInfo(python)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = scratch,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        info.Environment["HOME"] = scratch;
        info.Environment["TMPDIR"] = scratch;
        info.Environment["LANG"] = "C.UTF-8";
        // No pip.conf anywhere (user, site or /etc) can add an index, a trusted host or options.
        info.Environment["PIP_CONFIG_FILE"] = "/dev/null";
        info.Environment["PIP_NO_INPUT"] = "1";
        info.Environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1";
        // pip itself never writes bytecode under /usr.
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        using var process = Process.Start(info) ?? throw new PackageException($"could not start {python}", RpcErrorCodes.Unavailable);
        process.StandardInput.Close();
        var stdout = ReadCappedAsync(process.StandardOutput);
        var stderr = ReadCappedAsync(process.StandardError);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new PackageException($"{what} did not finish within {timeout.TotalSeconds:0} s and was stopped");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Reads to the end, keeping the last <see cref="OutputCap"/> characters (errors come last).</summary>
    private static async Task<string> ReadCappedAsync(StreamReader reader)
    {
        var kept = new StringBuilder();
        var buffer = new char[8192];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            kept.Append(buffer, 0, n);
            if (kept.Length > 2 * OutputCap)
            {
                kept.Remove(0, kept.Length - OutputCap);
            }
        }
        return kept.Length > OutputCap ? kept.ToString(kept.Length - OutputCap, OutputCap) : kept.ToString();
    }
}

/// <summary>What a Python child did.</summary>
internal sealed partial record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    private const int MaxSummary = 1500;

    /// <summary>
    /// pip's own error lines ("ERROR: ..." and the indented lines under them), or the last lines of stderr; control
    /// characters replaced, length capped. When pip could not reach the index, the cause it gave in its retry warnings
    /// ("Name or service not known", "Connection refused", a certificate error) comes first: its ERROR lines then only
    /// say that no version was found, which hides why. For the admin: never holds secrets (pip gets none).
    /// </summary>
    public string ErrorSummary()
    {
        var lines = Stderr.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var picked = new List<string>();
        if (lines.LastOrDefault(l => l.StartsWith("WARNING: Retrying", StringComparison.Ordinal) || l.StartsWith("WARNING: Could not fetch URL", StringComparison.Ordinal)) is { } retry)
        {
            var cause = Errno().Match(retry) is { Success: true } errno ? errno.Value.TrimEnd('\'', '"', ')')
                : ErrorName().Match(retry) is { Success: true } name ? name.Groups[1].Value
                : retry["WARNING: ".Length..];
            var url = RetryPath().Match(retry) is { Success: true } path ? " for " + path.Groups[1].Value : "";
            picked.Add($"pip could not reach the package index{url} ([agent] package_index_url): {cause}");
        }
        var inError = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("ERROR:", StringComparison.Ordinal))
            {
                inError = true;
                picked.Add(line.Trim());
            }
            else if (inError && line.StartsWith(' ') && line.Trim().Length > 0)
            {
                picked.Add(line.Trim());
            }
            else
            {
                inError = false;
            }
        }
        if (picked.Count == 0)
        {
            picked.AddRange(lines.Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(4));
        }
        var text = string.Join(" | ", picked);
        text = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]);
        return text.Length == 0 ? "(no output)" : text.Length > MaxSummary ? text[..MaxSummary] + "..." : text;
    }

    [GeneratedRegex(@"\[Errno -?\d+\][^'"")]*")]
    private static partial Regex Errno();

    [GeneratedRegex(@"\b(\w*(?:Error|Exception))\(")]
    private static partial Regex ErrorName();

    [GeneratedRegex(@"\)':\s*(\S+)\s*$")]
    private static partial Regex RetryPath();
}
