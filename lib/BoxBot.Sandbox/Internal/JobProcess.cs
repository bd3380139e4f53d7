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
/// Starts <c>unshare ... -- launcher exec</c> with the spec on stdin, captures stdout and stderr up
/// to a cap each, and kills the whole job (unshare, and the namespace's init, which takes every
/// other job process with it) on timeout, on too much output, or on cancellation.
/// </summary>
internal sealed class JobProcess
{
    private const string Unshare = "/usr/bin/unshare";
    private readonly Process _process;
    private int _killReason;
    private int _hostPid;

    private JobProcess(Process process) => _process = process;

    public static async Task<JobOutcome> RunAsync(string launcher, JobSpec spec, bool isolateNetwork, string workingDirectory,
        TimeSpan wall, int outputBytes, CancellationToken cancellationToken)
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
        foreach (var a in (string[])["--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts"])
        {
            info.ArgumentList.Add(a);
        }
        if (isolateNetwork)
        {
            info.ArgumentList.Add("--net");
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

        using var process = new Process { StartInfo = info };
        if (!process.Start())
        {
            throw new SandboxException("could not start " + Unshare);
        }
        var job = new JobProcess(process);
        using var timeout = new CancellationTokenSource(wall);
        using var onTimeout = timeout.Token.Register(() => job.Kill(KillReason.Timeout));
        using var onCancel = cancellationToken.Register(() => job.Kill(KillReason.Cancelled));

        var stdout = job.CaptureAsync(process.StandardOutput.BaseStream, outputBytes);
        var stderr = job.CaptureAsync(process.StandardError.BaseStream, outputBytes);
        try
        {
            await JsonSerializer.SerializeAsync(process.StandardInput.BaseStream, spec, JobSpecJsonContext.Default.JobSpec, CancellationToken.None);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The launcher died before reading its spec; its exit status and stderr tell why.
        }
        job.FindHostPid();
        await process.WaitForExitAsync(CancellationToken.None);
        var (outBytes, outTruncated) = await stdout;
        var (errBytes, errTruncated) = await stderr;
        return new JobOutcome(process.ExitCode, (KillReason)Volatile.Read(ref job._killReason), job._hostPid, outBytes, outTruncated, errBytes, errTruncated);
    }

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

    private async Task<(byte[], bool)> CaptureAsync(Stream stream, int cap)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk)) > 0)
            {
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
        return (buffer.ToArray(), false);
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
