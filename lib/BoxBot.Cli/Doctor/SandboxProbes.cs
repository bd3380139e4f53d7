using System.Globalization;
using System.Net;
using System.Text;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Cli.Doctor;

/// <summary>A place a network = internet job must not reach.</summary>
internal sealed record ProbeTarget(string Label, IPAddress Address, int Port)
{
    public string Endpoint => $"{Address}:{Port}";
}

/// <summary>
/// Checks 5 and 6: real jobs through the path an admin's <c>boxbot sandbox run</c> takes (agent.sock <c>sandbox.run</c>):
/// one that calls os.fork(), which the seccomp filter must kill, and one with network = internet that asks its proxy port
/// for tunnels to loopback and the LAN gateway, which the egress proxy must refuse (403: not a public address).
/// </summary>
internal static class SandboxProbes
{
    public const string Group = "sandbox";

    /// <summary>Printed by the seccomp probe only if os.fork() returned: its presence means the filter is off.</summary>
    public const string ForkMarker = "boxbot-doctor: fork survived";

    public const string SeccompProbeScript =
        "import os\n" +
        "print('boxbot-doctor: forking', flush=True)\n" +
        "pid = os.fork()\n" +
        "if pid == 0:\n" +
        "    os._exit(0)\n" +
        "os.waitpid(pid, 0)\n" +
        "print('" + ForkMarker + "', flush=True)\n";

    private const string NetLinePrefix = "boxbot-doctor-net";
    private const int ConnectTimeoutSeconds = 2;
    private const int SeccompJobTimeoutSeconds = 10;
    private const int NetworkJobTimeoutSeconds = 15;

    // A network = internet job has its own network namespace: the only way out is its proxy port, relayed to the egress
    // proxy. Reachable: the proxy opened the tunnel (200). Blocked: the proxy refused it (403, not a public address).
    private static readonly HashSet<string> Reachable = ["proxy-200"];
    private static readonly HashSet<string> Blocked = ["proxy-403"];

    public static async Task<IReadOnlyList<Finding>> RunAsync(DoctorContext context, CancellationToken cancellationToken)
    {
        if (context.StatusOf(Daemons.Agent) is { Up: false } agent)
        {
            // Each probe would wait for its own timeout on an agent that already failed to answer a status call.
            var why = $"the agent does not answer ({agent.Error}), so no probe job could run";
            return
            [
                Finding.Fail(Group, "seccomp", "seccomp probe: " + why, RestartBoth(context.Development)),
                Finding.Fail(Group, "network", "network probe: " + why, RestartBoth(context.Development)),
            ];
        }
        var findings = new List<Finding>();
        var (fork, forkError) = await RunJobAsync(context, SeccompProbeScript, "none", SeccompJobTimeoutSeconds, cancellationToken);
        findings.Add(EvaluateSeccomp(fork, forkError, context.Development));

        var targets = Targets(context);
        var (net, netError) = await RunJobAsync(context, NetworkProbeScript(targets), "internet", NetworkJobTimeoutSeconds, cancellationToken);
        findings.AddRange(EvaluateNetwork(targets, net, netError, context.Development, CgroupV1()));
        return findings;
    }

    /// <summary>The verdict on the fork probe's result (or on why there is none).</summary>
    public static Finding EvaluateSeccomp(SandboxRunResult? result, string? callError, bool development)
    {
        const string Id = "seccomp";
        var stop = development
            ? "boxbot status  # the sandbox's runner line and dev up's log say why"
            : "sudo systemctl stop boxbot-sandbox.socket boxbot-sandbox.service && journalctl -u boxbot-sandbox.service";
        if (result is null)
        {
            return Finding.Fail(Group, Id, $"seccomp probe: the fork probe job could not run: {callError}", RestartBoth(development));
        }
        if (result.Stdout.Contains(ForkMarker, StringComparison.Ordinal))
        {
            return Finding.Fail(Group, Id, $"seccomp probe: os.fork() succeeded in sandbox job {result.JobId}: the seccomp filter is not enforced, jobs are not confined", stop);
        }
        if (result is { Status: "killed", KilledBy: "seccomp" })
        {
            return Finding.Ok(Group, Id, $"seccomp probe: os.fork() in sandbox job {result.JobId} was killed by seccomp (SIGSYS{(result.Syscall is null ? "" : ", " + result.Syscall)})");
        }
        var how = result.Status switch
        {
            "ok" => "ended normally",
            "killed" => $"was killed by {result.KilledBy}, not by seccomp",
            _ => $"failed ({result.Error ?? "exit code " + result.ExitCode?.ToString(CultureInfo.InvariantCulture)})",
        };
        return Finding.Fail(Group, Id, $"seccomp probe: sandbox job {result.JobId} {how} after os.fork(): the filter did not kill it", stop);
    }

    /// <summary>The network probe: one TCP connect per target, each printing <c>boxbot-doctor-net LABEL OUTCOME</c>.</summary>
    public static string NetworkProbeScript(IReadOnlyList<ProbeTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var list = string.Join(", ", targets.Select(t => string.Create(CultureInfo.InvariantCulture, $"(\"{t.Label}\", \"{t.Address}\", {t.Port})")));
        return new StringBuilder()
            .Append("import errno, socket\n")
            .Append("TARGETS = [").Append(list).Append("]\n")
            .Append("for label, host, port in TARGETS:\n")
            .Append("    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n")
            .Append("    s.settimeout(").Append(ConnectTimeoutSeconds * 5).Append(")\n")
            .Append("    try:\n")
            .Append("        s.connect(('127.0.0.1', 3128))\n")
            .Append("        target = ('[%s]:%d' if ':' in host else '%s:%d') % (host, port)\n")
            .Append("        s.sendall(('CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n' % (target, target)).encode())\n")
            .Append("        words = s.makefile('rb').readline().split()\n")
            .Append("        outcome = 'proxy-' + (words[1].decode() if len(words) > 1 else 'closed')\n")
            .Append("    except socket.timeout:\n")
            .Append("        outcome = 'timeout'\n")
            .Append("    except OSError as e:\n")
            .Append("        outcome = errno.errorcode.get(e.errno, 'errno%s' % e.errno)\n")
            .Append("    finally:\n")
            .Append("        s.close()\n")
            .Append("    print('").Append(NetLinePrefix).Append("', label, outcome, flush=True)\n")
            .ToString();
    }

    /// <summary>LABEL → outcome from the network probe's stdout.</summary>
    public static IReadOnlyDictionary<string, string> ParseNetworkOutput(string stdout)
    {
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (stdout ?? "").Split('\n'))
        {
            var f = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[0] == NetLinePrefix)
            {
                outcomes[f[1]] = f[2];
            }
        }
        return outcomes;
    }

    /// <summary>
    /// The verdict on the network probe, which asks the job's proxy port for a tunnel to each target: the egress proxy must
    /// refuse every one (403). A tunnel it opened is a failure on any box: the dev tree's sandbox daemon serves the same proxy.
    /// </summary>
    public static IReadOnlyList<Finding> EvaluateNetwork(IReadOnlyList<ProbeTarget> targets, SandboxRunResult? result, string? callError, bool development, bool cgroupV1)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (result is null)
        {
            return [Finding.Fail(Group, "network", $"network probe: the job could not run: {callError}", RestartBoth(development))];
        }
        var outcomes = ParseNetworkOutput(result.Stdout);
        var findings = new List<Finding>();
        foreach (var target in targets)
        {
            var id = "network." + target.Label;
            if (!outcomes.TryGetValue(target.Label, out var outcome))
            {
                findings.Add(Finding.Fail(Group, id, $"network probe: job {result.JobId} ended ({result.Status}{(result.KilledBy is null ? "" : " by " + result.KilledBy)}) before it tried {target.Endpoint}" +
                                                     (result.Error is null ? "" : $": {result.Error}"), RestartBoth(development)));
            }
            else if (Blocked.Contains(outcome))
            {
                findings.Add(Finding.Ok(Group, id, $"network probe: {target.Endpoint} ({target.Label}) is blocked for network = internet jobs ({outcome})"));
            }
            else if (Reachable.Contains(outcome))
            {
                var what = $"network probe: the egress proxy opened a tunnel for a network = internet job to {target.Endpoint} ({target.Label}: {outcome})";
                findings.Add(Finding.Fail(Group, id, what + ": it must refuse every address that is not public",
                    development
                        ? DoctorContext.DevRestart + " (the development sandbox daemon serves the egress proxy)"
                        : "systemctl cat boxbot-egress.socket && sudo apt-get install --reinstall boxbot && sudo systemctl restart boxbot-egress.socket boxbot-egress.service"));
            }
            else
            {
                findings.Add(Finding.Warn(Group, id, $"network probe: connecting to {target.Endpoint} ({target.Label}) gave {outcome}, neither reachable nor clearly blocked", null));
            }
        }
        return findings;
    }

    /// <summary>Loopback on port 22 and on the webhook's port, and the default gateway (from /proc/net/route) when there is one.</summary>
    public static IReadOnlyList<ProbeTarget> Targets(DoctorContext context)
    {
        var targets = new List<ProbeTarget> { new("loopback-ssh", IPAddress.Loopback, 22) };
        if (WebhookBindCheck.WebhookPort(context) is { } port)
        {
            targets.Add(new("loopback-webhook", IPAddress.Loopback, port));
        }
        try
        {
            if (ProcNet.DefaultGateway(File.ReadAllText("/proc/net/route")) is { } gateway)
            {
                targets.Add(new("gateway", gateway, 80));
            }
        }
        catch (IOException)
        {
            // No IPv4 routing table: there is no gateway to try.
        }
        return targets;
    }

    /// <summary>Runs one job through the agent as `boxbot sandbox run` does; every failure becomes the error string.</summary>
    private static async Task<(SandboxRunResult? Result, string? Error)> RunJobAsync(DoctorContext context, string script, string network, int timeoutSeconds,
        CancellationToken cancellationToken)
    {
        var socket = context.Paths.SocketPath(Daemons.Agent);
        var request = new SandboxRunRequest { Script = script, TimeoutSeconds = timeoutSeconds, Network = network };
        // The job's own limit, plus a cold start and the agent's queue.
        var limit = TimeSpan.FromSeconds(timeoutSeconds + 30);
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(context.ProbeTimeout);
            await using var client = await JsonRpcClient.ConnectAsync(socket, connect.Token);
            var result = await client.CallAsync(SandboxMethods.Run, request, SandboxJsonContext.Default.SandboxRunRequest,
                SandboxJsonContext.Default.SandboxRunResult, limit, cancellationToken);
            return (result, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the agent did not accept a connection on {socket} within {context.ProbeTimeout.TotalSeconds:0.#} s");
        }
        catch (IpcConnectException e)
        {
            return (null, $"the agent is not reachable: {e.Message}");
        }
        catch (IpcTimeoutException)
        {
            return (null, $"the agent did not answer sandbox.run on {socket} within {limit.TotalSeconds:0} s");
        }
        catch (RpcException e)
        {
            return (null, $"the agent refused sandbox.run: {RpcErrorCodes.Describe(e.Code)}: {e.Message}" +
                          (e.Code == RpcErrorCodes.Unauthorized ? " (run doctor as root or a member of the admin group)" : ""));
        }
        catch (IpcException e)
        {
            return (null, e.Message);
        }
    }

    private static string RestartBoth(bool development) =>
        development ? DoctorContext.DevRestart : "sudo systemctl restart boxbot-agent.service boxbot-sandbox.service";

    /// <summary>No unified hierarchy at /sys/fs/cgroup: systemd's IP filtering (a cgroup v2 BPF program) cannot work.</summary>
    private static bool CgroupV1() => !File.Exists("/sys/fs/cgroup/cgroup.controllers");
}
