using System.Diagnostics;
using System.Text.Json;
using BoxBot.Linux;

namespace BoxBot.Sandbox.Internal;

/// <summary>Why the runner itself ended a job (rather than the job ending on its own).</summary>
internal enum KillReason
{
    None,
    Timeout,
    Output,
    Cancelled,
}

/// <summary>What happened to one launcher process, before interpretation.</summary>
internal sealed record JobOutcome(int ExitCode, KillReason KilledBy, int HostPid, byte[] Stdout, bool StdoutTruncated, byte[] Stderr, bool StderrTruncated);

/// <summary>
/// One job's <c>unshare ... -- launcher exec</c>: started with its spec (length-prefixed) on stdin, its
/// stdout and stderr captured up to a cap each from the start; the whole job (unshare, and the
/// namespace's init, which takes every other job process with it) is killed on timeout, on too much
/// output, or on cancellation. A cold job's stdin is closed right after the spec; a warm one's stays
/// open until <see cref="GoAsync"/> writes the job's go message and closes it.
/// </summary>
internal sealed class JobProcess : IDisposable
{
    private const string Unshare = "/usr/bin/unshare";
    private readonly Process _process;
    private readonly Task<(byte[], bool)> _stdout;
    private readonly Task<(byte[], bool)> _stderr;
    private Task _stdin = Task.CompletedTask;
    private int _killReason;
    private int _hostPid;
    private bool _brokenStdin;

    private JobProcess(Process process, int outputBytes, bool keepTail)
    {
        _process = process;
        _stdout = CaptureAsync(process.StandardOutput.BaseStream, outputBytes, keepTail);
        _stderr = CaptureAsync(process.StandardError.BaseStream, outputBytes, keepTail);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The namespaces every job gets: PID (unshare forks the launcher as its init, and kills it if unshare dies), mount
    /// and network (empty: network "internet" reaches out only through the proxy port relayed by the runner). Not IPC
    /// or UTS: the job's filter kills every System V IPC and POSIX message queue call, and a job cannot set a hostname.
    /// </summary>
    internal static readonly string[] Namespaces = ["--pid", "--fork", "--kill-child", "--mount", "--net"];

    /// <summary>
    /// A runner that is not root: a user namespace too, mapping only its own uid and gid (the job's), with the
    /// capabilities it gives kept across the exec of the launcher, which needs them to build the job and then drops them.
    /// </summary>
    internal static readonly string[] UserNamespace = ["--user", "--map-current-user", "--keep-caps"];

    /// <summary>Starts the launcher in fresh namespaces (<see cref="Namespaces"/>, and <see cref="UserNamespace"/> for <see cref="JobSpec.UserNamespace"/>) and sends it the spec.</summary>
    public static JobProcess Start(string launcher, JobSpec spec, string workingDirectory, int outputBytes, bool keepTail = false)
    {
        var info = new ProcessStartInfo(Unshare)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // A core dump of unshare (it re-raises the job's fatal signal) lands in the job folder, which is deleted.
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in spec.UserNamespace ? [.. UserNamespace, .. Namespaces] : Namespaces)
        {
            info.ArgumentList.Add(a);
        }
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(launcher);
        info.ArgumentList.Add("exec");
        // The launcher gets a minimal environment of its own (the job's is rebuilt from the spec at exec):
        // nothing of the daemon's (NOTIFY_SOCKET, DOTNET_* runtime knobs, ...) reaches it.
        var dotnetRoot = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        if (!string.IsNullOrEmpty(dotnetRoot))
        {
            info.Environment["DOTNET_ROOT"] = dotnetRoot; // only a framework-dependent (test) launcher needs it
        }

        var process = new Process { StartInfo = info };
        if (!process.Start())
        {
            process.Dispose();
            throw new SandboxException("could not start " + Unshare);
        }
        var job = new JobProcess(process, outputBytes, keepTail);
        var json = JsonSerializer.SerializeToUtf8Bytes(spec, JobSpecJsonContext.Default.JobSpec);
        job._stdin = job.WriteStdinAsync(JobSpecFraming.Frame(json), close: !spec.WaitForGo);
        return job;
    }

    /// <summary>
    /// Hands a warm job its go message (its secrets, limits and whether it has an SDK channel) and closes its
    /// stdin. False if the process is gone (the write found no reader), so the job never ran and may be started elsewhere.
    /// </summary>
    public async Task<bool> GoAsync(byte[] message)
    {
        await _stdin;
        _stdin = WriteStdinAsync(message, close: true);
        await _stdin;
        return !_brokenStdin;
    }

    private async Task WriteStdinAsync(byte[] bytes, bool close)
    {
        try
        {
            var stdin = _process.StandardInput.BaseStream;
            await stdin.WriteAsync(bytes, CancellationToken.None);
            await stdin.FlushAsync(CancellationToken.None);
            if (close)
            {
                _process.StandardInput.Close();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The launcher died before reading: its exit status and stderr tell why.
            _brokenStdin = true;
        }
    }

    /// <summary>Waits for the job to end, killing it after <paramref name="wall"/> (counted from now) or on cancellation.</summary>
    public async Task<JobOutcome> WaitAsync(TimeSpan wall, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(wall);
        using var onTimeout = timeout.Token.Register(() => Kill(KillReason.Timeout));
        using var onCancel = cancellationToken.Register(() => Kill(KillReason.Cancelled));
        await _stdin;
        FindHostPid();
        await _process.WaitForExitAsync(CancellationToken.None);
        var (outBytes, outTruncated) = await _stdout;
        var (errBytes, errTruncated) = await _stderr;
        return new JobOutcome(_process.ExitCode, (KillReason)Volatile.Read(ref _killReason), _hostPid, outBytes, outTruncated, errBytes, errTruncated);
    }

    /// <summary>Ends a job that will never run (a warm one the runner no longer needs) and returns what it left.</summary>
    public Task<JobOutcome> AbandonAsync()
    {
        Kill(KillReason.Cancelled);
        return WaitAsync(Timeout.InfiniteTimeSpan, CancellationToken.None);
    }

    public void Dispose() => _process.Dispose();

    /// <summary>The job's init as the host sees it (unshare's only child): for kills and for the kernel's audit records.</summary>
    private void FindHostPid()
    {
        var children = $"/proc/{_process.Id}/task/{_process.Id}/children";
        for (var i = 0; i < 200 && _hostPid == 0; i++)
        {
            try
            {
                var text = File.ReadAllText(children).Trim();
                if (text.Length > 0 && int.TryParse(text.Split(' ')[0], out var pid))
                {
                    _hostPid = pid;
                    return;
                }
            }
            catch (IOException)
            {
                return; // unshare is gone already
            }
            Thread.Sleep(5);
        }
    }

    /// <summary>
    /// Reads one of the job's output pipes until it closes: up to <paramref name="cap"/> bytes, then the job is ended; or,
    /// with <paramref name="keepTail"/> (a long-lived plugin), only its last <paramref name="cap"/> bytes are kept.
    /// </summary>
    private async Task<(byte[], bool)> CaptureAsync(Stream stream, int cap, bool keepTail)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        var dropped = false;
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk)) > 0)
            {
                if (keepTail)
                {
                    buffer.Write(chunk, 0, n);
                    if (buffer.Length > 2L * cap)
                    {
                        var tail = buffer.GetBuffer().AsSpan((int)buffer.Length - cap, cap).ToArray();
                        buffer.SetLength(0);
                        buffer.Write(tail);
                        dropped = true;
                    }
                    continue;
                }
                var room = cap - (int)buffer.Length;
                buffer.Write(chunk, 0, Math.Min(room, n));
                if (n > room)
                {
                    Kill(KillReason.Output);
                    return (buffer.ToArray(), true);
                }
            }
        }
        catch (IOException)
        {
            // The pipe broke because the job was killed: keep what arrived.
        }
        if (keepTail && buffer.Length > cap)
        {
            return (buffer.GetBuffer().AsSpan((int)buffer.Length - cap, cap).ToArray(), true);
        }
        return (buffer.ToArray(), dropped);
    }

    private void Kill(KillReason reason)
    {
        Interlocked.CompareExchange(ref _killReason, (int)reason, (int)KillReason.None);
        if (_hostPid == 0)
        {
            FindHostPid();
        }
        try
        {
            if (_process.HasExited)
            {
                return;
            }
            // SIGKILL to the namespace's init ends every process in it; to unshare, so that it stops waiting.
            // The init's pid cannot have been reused while unshare, its only reaper, is still running.
            if (_hostPid != 0)
            {
                LinuxProcess.Signal(_hostPid, LinuxProcess.SIGKILL);
            }
            LinuxProcess.Signal(_process.Id, LinuxProcess.SIGKILL);
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }
    }
}
