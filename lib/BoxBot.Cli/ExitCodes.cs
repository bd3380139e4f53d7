namespace BoxBot.Cli;

/// <summary>Exit codes of the <c>boxbot</c> command, documented in <c>boxbot --help</c> and docs/cli.md.</summary>
public static class ExitCodes
{
    /// <summary>Success: the command did what was asked (status: every daemon is up).</summary>
    public const int Ok = 0;
    /// <summary>Failure: a daemon is down, a config has errors, a daemon refused, something could not be done.</summary>
    public const int Failure = 1;
    /// <summary>Usage: unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;
    /// <summary>`sandbox run`: the job ran but did not end "ok" (non-zero exit, or killed by a limit or the filter).</summary>
    public const int JobFailed = 3;
    /// <summary>`mesh invoke`: the device answered with an error (the same number as <see cref="JobFailed"/>: the call was made, its outcome was not ok).</summary>
    public const int DeviceError = 3;
    /// <summary>`doctor`: at least one check failed (warnings alone exit 0).</summary>
    public const int CheckFailed = 4;
}
