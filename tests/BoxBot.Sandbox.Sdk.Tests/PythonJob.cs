using System.Diagnostics;

namespace BoxBot.Sandbox.Sdk.Tests;

/// <summary>
/// One job as the launcher will run it, minus the confinement: a real /usr/bin/python3 -I child with the job's
/// socket end inherited and named by BOXBOT_SDK_FD, the host end served by a real SdkSession.
/// </summary>
internal sealed class PythonJob : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public PythonJob(Func<SdkOptions, SdkOptions>? configure = null)
    {
        Workspace = Directory.CreateTempSubdirectory("boxbot-sdk-test-").FullName;
        var options = new SdkOptions { WorkspaceHostPath = Workspace };
        Options = configure is null ? options : configure(options);
        Session = new SdkSession(Options, Host, Logger);
    }

    public string Workspace { get; }

    public SdkOptions Options { get; }

    public FakeSdkHost Host { get; } = new();

    public CapturingLogger Logger { get; } = new();

    public SdkSession Session { get; }

    public static string PythonPackageDirectory { get; } = Path.Combine(RepoRoot(), "lib", "BoxBot.Sandbox", "python");

    /// <summary>Runs <paramref name="body"/> after <c>import bb</c> (plus json, os, sys) with the SDK channel at BOXBOT_SDK_FD.</summary>
    /// <param name="rawScript">Run <paramref name="body"/> alone, without the prelude.</param>
    /// <param name="viaBootstrap">Start the script as the launcher will, through python/bootstrap.py, without adding the package to sys.path itself.</param>
    public async Task<Result> RunAsync(string body, bool withChannel = true, IReadOnlyDictionary<string, string>? environment = null, bool viaBootstrap = false, bool rawScript = false)
    {
        var script = Path.Combine(Workspace, "job.py");
        var pathSetup = viaBootstrap ? "" : $"import sys\nsys.path.insert(0, {PythonString(PythonPackageDirectory)})\n";
        var prelude = pathSetup + "import json, os\nimport bb\n" + Attempt;
        await File.WriteAllTextAsync(script, rawScript ? body : prelude + body);

        var start = new ProcessStartInfo(Python)
        {
            WorkingDirectory = Workspace,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-I");
        // No __pycache__ in the source tree (the installed runtime is read-only, so it never writes one either).
        start.ArgumentList.Add("-B");
        if (viaBootstrap)
        {
            start.ArgumentList.Add(Path.Combine(PythonPackageDirectory, "bootstrap.py"));
        }

        start.ArgumentList.Add(script);
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var cts = new CancellationTokenSource(Limit);
        Task session = Task.CompletedTask;
        Process process;
        if (withChannel)
        {
            var (hostEnd, jobFd) = SocketPair.Create();
            start.Environment["BOXBOT_SDK_FD"] = jobFd.ToString(System.Globalization.CultureInfo.InvariantCulture);
            lock (SocketPair.InheritLock)
            {
                try
                {
                    SocketPair.MakeInheritable(jobFd);
                    process = Process.Start(start)!;
                }
                finally
                {
                    // Our copy must go, or the session would never see the job's end close.
                    SocketPair.Close(jobFd);
                }
            }

            session = Task.Run(async () =>
            {
                using (hostEnd)
                {
                    await Session.RunAsync(hostEnd, cts.Token);
                }
            });
        }
        else
        {
            process = Process.Start(start)!;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = process.StandardError.ReadToEndAsync(cts.Token);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"the python job did not finish in {Limit}");
            }

            await session.WaitAsync(Limit);
            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Workspace, recursive: true);
        }
        catch (IOException)
        {
            // A fifo or odd file left by a test: the temp folder is cleaned by the OS eventually.
        }
    }

    /// <summary>attempt(f, *args) → {"ok": result} or {"code": ..., "message": ...} from bb.SdkError.</summary>
    private const string Attempt = """
        def attempt(f, *args):
            try:
                return {"ok": f(*args)}
            except bb.SdkError as e:
                return {"code": e.code, "message": e.message}

        """;

    public static string PythonString(string s) => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "boxbot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("boxbot.sln not found above " + AppContext.BaseDirectory);
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>The job's last stdout line, parsed: tests print their findings as one JSON object.</summary>
        public System.Text.Json.JsonElement Json()
        {
            Assert.That(ExitCode, Is.Zero, $"the job failed:\n{Stderr}\n{Stdout}");
            var last = Stdout.TrimEnd().Split('\n')[^1];
            return System.Text.Json.JsonDocument.Parse(last).RootElement;
        }
    }
}
