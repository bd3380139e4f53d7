using System.Collections.Concurrent;
using System.Diagnostics;

namespace BoxBot.Integration.Tests;

/// <summary>A real child process with its stdout and stderr captured line by line, killed on dispose if still running.</summary>
internal class ObservedProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();

    public ObservedProcess(string executable, IEnumerable<string> args, IDictionary<string, string> env)
    {
        // A test run started as a background job inherits SIGINT as ignored, and .NET keeps an
        // inherited ignore (background-job convention), which would make the Ctrl-C tests test the
        // shell instead of boxbot. env resets SIGINT to its default and execs: same pid, same process.
        var info = new ProcessStartInfo("/usr/bin/env") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(executable);
        Executable = executable;
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        // A test run under systemd must not hand its notification socket to the process under test.
        info.Environment.Remove("NOTIFY_SOCKET");
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        Process = new Process { StartInfo = info };
        Process.ErrorDataReceived += (_, e) => Capture(e.Data);
        Process.OutputDataReceived += (_, e) => Capture(e.Data);
        Process.Start();
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
    }

    public Process Process { get; }
    public string Executable { get; }
    public IReadOnlyList<string> Lines => [.. _lines];
    public string Log => string.Join('\n', _lines);

    /// <summary>Waits until a line contains <paramref name="text"/>; fails with the output if the process exits or it never comes.</summary>
    public async Task WaitForLineAsync(string text)
    {
        var waited = Stopwatch.StartNew();
        while (!_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (Process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Fail($"{Executable} never printed '{text}':\n{Log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Waits for exit and returns the code; the bound only keeps a broken process from hanging the suite.</summary>
    public int WaitExit(TimeSpan? within = null)
    {
        if (!Process.WaitForExit(within ?? TimeSpan.FromSeconds(20)))
        {
            Assert.Fail($"{Executable} did not exit:\n{Log}");
        }
        Process.WaitForExit(); // drains the redirected output
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(true);
            Process.WaitForExit();
        }
        Process.Dispose();
    }

    private void Capture(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
