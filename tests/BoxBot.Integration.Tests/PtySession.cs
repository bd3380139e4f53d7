using System.Diagnostics;
using System.Text;

namespace BoxBot.Integration.Tests;

/// <summary>
/// A program run on a real pseudo-terminal, typed at like a person would: Python's pty.spawn gives it a fresh pty as its
/// controlling terminal (so it sees a terminal on stdin and stdout, line discipline and all) and copies the bytes this
/// test writes to the terminal's input and the terminal's output back. The keys are the bytes a terminal sends
/// (Ctrl-C is 0x03, Backspace 0x7f, Left "ESC [ D").
/// </summary>
internal sealed class PtySession : IDisposable
{
    // pty.spawn copies stdin to the pty and the pty to stdout until the child exits; its exit code is the child's.
    private const string Relay = "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _reader;

    public PtySession(string executable, IEnumerable<string> args, IDictionary<string, string> env)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-I", "-c", Relay, executable, .. args])
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        info.Environment["TERM"] = "xterm";
        _process = Process.Start(info)!;
        _reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await _process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (_output)
                {
                    _output.Append(buffer, 0, n);
                }
            }
        });
    }

    /// <summary>Everything the terminal showed so far, escape sequences included.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Types <paramref name="keys"/> (bytes a terminal sends), then waits a little, as a person would between keys.</summary>
    public async Task TypeAsync(string keys)
    {
        await _process.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(keys));
        await _process.StandardInput.BaseStream.FlushAsync();
        await Task.Delay(150);
    }

    /// <summary>Waits until the terminal has shown <paramref name="text"/> <paramref name="times"/> times in all.</summary>
    public async Task WaitForAsync(string text, int times = 1)
    {
        var waited = Stopwatch.StartNew();
        while (Count(Output, text) < times)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Fail($"the terminal never showed '{text}' {times} time(s):\n{Output}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Waits for the program to end and returns its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(limit.Token);
        await _reader;
        return _process.ExitCode;
    }

    private static int Count(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
