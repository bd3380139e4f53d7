using BoxBot.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

// `exec`: the launcher, as cmd/boxbot-sandbox runs it. `validate JOBS_DIR`: what a runner says when it
// cannot run jobs here (the tests run it as a non-root user).
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
    default:
        return 2;
}
