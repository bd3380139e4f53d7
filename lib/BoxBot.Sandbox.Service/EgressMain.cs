using System.CommandLine;
using System.Net.Sockets;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Linux;
using BoxBot.Sandbox.Egress;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Service;

/// <summary>
/// <c>boxbot-sandbox egress</c>: the egress proxy daemon (boxbot-egress.service). Jobs have no network of their
/// own; the runner relays each job's 127.0.0.1:3128 to this daemon's socket, and it connects only to public
/// addresses (<see cref="EgressProxy"/>). It lives in the sandbox executable because it ships with the sandbox,
/// but runs in a unit of its own with a dynamic user and the network the runner does not have. No config file,
/// no control socket: its one socket is the proxy.
/// </summary>
public static class EgressMain
{
    /// <summary>Where boxbot-egress.socket listens; an inherited socket must be bound here unless --socket says otherwise.</summary>
    public const string DefaultSocketPath = InstallLayout.EgressSocket;

    private const string Description =
        "the egress proxy, the only way sandbox jobs reach the internet. An HTTP/1.1 proxy (CONNECT host:port for HTTPS, " +
        "absolute-form http:// for plain HTTP) on a Unix socket, which the sandbox runner relays each job's 127.0.0.1:3128 to. " +
        "It connects only to public addresses: never this box, the LAN, link-local (cloud metadata) or other special ranges, " +
        "checked on every address a name resolves to.\n\n" +
        "Normally started by systemd through boxbot-egress.socket (socket activation, Type=notify); it reads no config file. " +
        "Without a socket from systemd, --socket PATH makes one (mode 0660). Logs go to stderr with journald priority prefixes. " +
        "SIGTERM or SIGINT stops it within 5 s.\n" +
        "Exit codes: 0 clean stop, 1 failure (cannot listen), 2 usage error.";

    private static readonly UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <param name="args">The arguments after <c>egress</c>.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        var socket = new Option<string?>("--socket")
        {
            Description = $"Listen on this Unix socket (created with mode 0660; a stale socket there is replaced, anything else is refused). " +
                $"Unused when systemd passes the socket, except that the socket it passes must be bound to it (default {DefaultSocketPath}).",
            HelpName = "PATH",
        };
        var logLevel = new Option<LogLevelSetting?>("--log-level")
        {
            Description = "debug, info (default), warning or error. Refusals are warnings; each connection is info.",
            HelpName = "LEVEL",
        };
        var egress = new Command("egress", "boxbot-sandbox egress is " + Description) { socket, logLevel };
        egress.SetAction((parse, stop) => ServeAsync(parse.GetValue(socket), parse.GetValue(logLevel) ?? LogLevelSetting.Info, stop));
        // Parsed as a subcommand of the executable so that --help shows "boxbot-sandbox egress [options]".
        var root = new RootCommand("boxbot-sandbox") { egress };
        var parsed = root.Parse(["egress", .. args]);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"boxbot-sandbox egress: {error.Message}");
            }
            Console.Error.WriteLine("Run 'boxbot-sandbox egress --help' for usage.");
            return 2;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = DaemonHost.ShutdownBudget + TimeSpan.FromSeconds(2) });
    }

    private static async Task<int> ServeAsync(string? socketPath, LogLevelSetting levelSetting, CancellationToken stop)
    {
        var level = levelSetting switch
        {
            LogLevelSetting.Debug => LogLevel.Debug,
            LogLevelSetting.Warning => LogLevel.Warning,
            LogLevelSetting.Error => LogLevel.Error,
            _ => LogLevel.Information,
        };
        using var logs = new JournalLoggerProvider(level);
        using var loggers = LoggerFactory.Create(b => b.ClearProviders().SetMinimumLevel(level).AddProvider(logs));
        var log = loggers.CreateLogger("BoxBot.Sandbox.Egress");
        log.LogInformation(HostLogEvents.Starting, "boxbot-sandbox egress {Version} starting as pid {Pid}, uid {Uid}",
            BuildInfo.Version, Environment.ProcessId, LinuxProcess.EffectiveUid);

        Socket listener;
        string path;
        FileStatus? created;
        try
        {
            (listener, path, created) = Listen(socketPath);
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            log.LogCritical(HostLogEvents.StartFailed, "boxbot-sandbox egress cannot start: {Reason}", e.Message);
            return 1;
        }

        using (listener)
        {
            var proxy = new EgressProxy(EgressOptions.Default, loggers.CreateLogger<EgressProxy>());
            using var notify = SdNotify.FromEnvironment();
            using var stopServing = new CancellationTokenSource();
            var serving = proxy.ServeAsync(listener, stopServing.Token);
            notify.Ready($"proxying on {path}");
            log.LogInformation(HostLogEvents.Ready, "ready: proxying for jobs on {Socket}, to public addresses only", path);
            using var stopWatchdog = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var watchdog = WatchdogAsync(notify, serving, log, stopWatchdog.Token);

            await Task.WhenAny(serving, Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default));
            var failed = serving.IsCompleted && !stop.IsCancellationRequested;
            if (failed)
            {
                // The accept loop ended by itself: exit non-zero so systemd restarts the unit.
                log.LogCritical(HostLogEvents.StartFailed, "the accept loop ended: {Reason}", serving.Exception?.GetBaseException().Message ?? "listener closed");
            }
            else
            {
                log.LogInformation(HostLogEvents.ShutdownRequested, "shutdown requested; {Open} connections open", proxy.ActiveConnections);
            }
            notify.Stopping("shutting down");
            await stopWatchdog.CancelAsync();
            await watchdog;
            await stopServing.CancelAsync();
            if (await Task.WhenAny(serving, Task.Delay(DaemonHost.ShutdownBudget)) != serving)
            {
                log.LogWarning(HostLogEvents.ShutdownPhaseFailed, "connections still open after {Seconds} s are abandoned", DaemonHost.ShutdownBudget.TotalSeconds);
            }
            if (created is { } ours && LinuxFile.LStat(path) is { IsSocket: true } current && current.SameFileAs(ours))
            {
                File.Delete(path);
            }
            log.LogInformation(HostLogEvents.Stopped, "stopped");
            return failed ? 1 : 0;
        }
    }

    /// <summary>The socket from systemd, or one made at <paramref name="socketPath"/>; then the path, and the made file's identity.</summary>
    private static (Socket Listener, string Path, FileStatus? Created) Listen(string? socketPath)
    {
        var expected = Path.GetFullPath(socketPath ?? DefaultSocketPath);
        if (SystemdListenFds.TakeListener() is { } inherited)
        {
            // The same check as the JSON-RPC daemons': a .socket unit that names another path is a mistake to report,
            // not a socket to serve.
            var bound = (inherited.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
            var listening = inherited.AddressFamily == AddressFamily.Unix && inherited.SocketType == SocketType.Stream
                && inherited.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int accepting && accepting != 0;
            if (!listening || bound != expected)
            {
                inherited.Dispose();
                throw new IOException($"the socket systemd passed is not a listening Unix stream socket on {expected} (it is bound to '{bound}'): "
                    + "boxbot-egress.socket's ListenStream= must match --socket (default " + DefaultSocketPath + ")");
            }
            return (inherited, expected, null);
        }
        if (socketPath is null)
        {
            throw new IOException("no socket from systemd and no --socket: start boxbot-egress.socket (systemctl start boxbot-egress.socket), "
                + "or pass --socket PATH to listen elsewhere");
        }
        var (listener, created) = ListenAt(expected, SocketMode);
        return (listener, expected, created);
    }

    /// <summary>
    /// Listens on a socket made at <paramref name="path"/> with <paramref name="mode"/> (a stale socket there is replaced,
    /// a live one or any other file refused with an <see cref="IOException"/>); also the dev sandbox daemon's (DevEgress).
    /// </summary>
    internal static (Socket Listener, FileStatus? Created) ListenAt(string path, UnixFileMode mode)
    {
        // bind() names a missing folder "Cannot assign requested address"; say which folder.
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder))
        {
            throw new IOException($"cannot listen on {path}: the folder {folder} does not exist");
        }
        ClaimPath(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // The mode is set before listen(): until then a connect is refused, so nobody gets in under the umask's mode.
            File.SetUnixFileMode(path, mode);
            var created = LinuxFile.LStat(path);
            listener.Listen(64);
            return (listener, created);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    // Frees the path for bind: removes a stale socket (nobody answers on it); refuses a live one or any other file.
    private static void ClaimPath(string path)
    {
        if (LinuxFile.LStat(path) is not { } existing)
        {
            return;
        }
        if (!existing.IsSocket)
        {
            throw new IOException($"cannot listen on {path}: a {existing.TypeName} exists there and only a stale socket is replaced; remove it or choose another path");
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // A full backlog: someone is listening.
        }
        throw new IOException($"cannot listen on {path}: another server is listening there; stop it first");
    }

    // Pets systemd's watchdog at half its interval while the accept loop runs: a proxy whose loop died is restarted.
    private static async Task WatchdogAsync(SdNotify notify, Task serving, ILogger log, CancellationToken stop)
    {
        if (notify.WatchdogInterval is not { } interval)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            do
            {
                if (serving.IsCompleted)
                {
                    log.LogWarning(HostLogEvents.Watchdog, "the accept loop is not running; withholding the watchdog ping");
                }
                else
                {
                    notify.Watchdog();
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
