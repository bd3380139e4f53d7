using BoxBot.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

// `exec`: the launcher, as cmd/boxbot-sandbox runs it. `validate JOBS_DIR`: what a runner says when it
// cannot run jobs here. `run JOBS_DIR RUNTIME NETWORK [EGRESS_SOCKET]`: one job (the script on stdin) through a
// runner in this process; the tests run both as users other than root, where the runner uses user namespaces.
switch (args)
{
    case ["exec"]:
        return JobLauncher.Exec();
    case ["validate", var jobsDir]:
        try
        {
            new SandboxRunner(new SandboxRunnerOptions { JobsDir = jobsDir, LauncherPath = Environment.ProcessPath! }, NullLogger.Instance).Validate();
            Console.WriteLine("valid");
            return 0;
        }
        catch (SandboxException e)
        {
            Console.WriteLine(e.Message);
            return 1;
        }
    case ["run", var jobsDir, var runtime, var network, .. var rest]:
        {
            var options = new SandboxRunnerOptions
            {
                JobsDir = jobsDir,
                LauncherPath = Environment.ProcessPath!,
                SdkRuntimePath = runtime,
                WarmJobs = network == "warm" ? 1 : 0,
                EgressSocket = rest is [var egress] ? egress : null,
            };
            await using var runner = new SandboxRunner(options, NullLogger.Instance);
            runner.Validate();
            for (var i = 0; network == "warm" && runner.Warm == 0 && i < 400; i++)
            {
                await Task.Delay(50);
            }
            var script = await Console.In.ReadToEndAsync();
            var result = await runner.RunAsync(new JobRequest
            {
                Script = script,
                Network = network == "internet" ? JobNetwork.Internet : JobNetwork.None,
            });
            Console.WriteLine($"{result.Status} {result.KilledBy ?? "-"} {result.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} {(result.StartedWarm ? "warm" : "cold")}");
            Console.Write(result.Stdout);
            Console.Error.Write(result.Stderr + result.Error);
            return 0;
        }
    default:
        return 2;
}
