using System.Diagnostics;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Hosting.Internal;
using BoxBot.Ipc;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting;

/// <summary>What <see cref="DaemonHost.RunAsync"/> needs from the command line.</summary>
/// <param name="ConfigPath">An explicit <c>--config</c>; it must exist. Null: the layout's default path, defaults if missing.</param>
/// <param name="LogLevel">An explicit <c>--log-level</c>, which wins over the file (precedence: defaults → file → flags).</param>
public sealed record DaemonHostOptions(string? ConfigPath, LogLevelSetting? LogLevel);

/// <summary>
/// Runs one daemon: config, logging, the control socket with <c>system.status</c>, the daemon's
/// own service, sd_notify, and shutdown in named phases when the token fires (SIGTERM/SIGINT).
/// </summary>
public static class DaemonHost
{
    /// <summary>The whole shutdown, all phases, must fit in this (systemd's stop timeout is longer).</summary>
    public static readonly TimeSpan ShutdownBudget = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(DaemonInfo daemon, DaemonHostOptions options, IDaemonService service, CancellationToken stop)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var paths = BoxPaths.FromEnvironment();
        LoadedConfig loaded;
        try
        {
            loaded = options.ConfigPath is null ? ConfigLoader.LoadOrDefaults(paths.ConfigFile) : ConfigLoader.Load(options.ConfigPath);
        }
        catch (ConfigException e)
        {
            foreach (var error in e.Errors)
            {
                Console.Error.WriteLine($"<3>{daemon.Executable}: {error}");
            }
            return 1;
        }

        var level = LogLevels.From(options.LogLevel ?? loaded.Config.Box.LogLevel);
        using var logs = new JournalLoggerProvider(level);
        using var loggers = LoggerFactory.Create(b => b.ClearProviders().SetMinimumLevel(level).AddProvider(logs));
        var log = loggers.CreateLogger("BoxBot.Hosting." + daemon.Name);
        if (!DevParent.Attach(log))
        {
            return 1;
        }
        log.LogInformation(HostLogEvents.Starting, "{Daemon} {Version} starting as pid {Pid}, uid {Uid}; config {Config}",
            daemon.Executable, BuildInfo.Version, Environment.ProcessId, LinuxProcess.EffectiveUid, Describe(loaded));
        if (!loaded.FromFile)
        {
            log.LogWarning(HostLogEvents.ConfigDefaults, "no config file at {Path}: running with built-in defaults", loaded.SourcePath);
        }

        using var notify = SdNotify.FromEnvironment();
        JsonRpcServer server;
        DaemonContext context;
        try
        {
            server = new JsonRpcServer(ServerOptions(daemon, paths, loaded.Config), loggers.CreateLogger<JsonRpcServer>());
            context = new DaemonContext(daemon, paths, loaded, loggers, logs, server);
        }
        catch (Exception e) when (e is IpcException or IOException or UnauthorizedAccessException)
        {
            log.LogCritical(HostLogEvents.StartFailed, "{Daemon} cannot start: {Reason}", daemon.Executable, e.Message);
            return 1;
        }

        await using (server)
        {
            server.Map(SystemMethods.Status, context.Operators, ContractsJsonContext.Default.EmptyParams, ContractsJsonContext.Default.SystemStatus,
                (_, _, _) => ValueTask.FromResult(Status(context, service, startedAt, clock.Elapsed)));
            try
            {
                await service.StartAsync(context, stop);
                server.Start();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                log.LogInformation(HostLogEvents.ShutdownRequested, "stop requested while starting");
                await service.DisposeAsync();
                return 0;
            }
            catch (Exception e)
            {
                log.LogCritical(HostLogEvents.StartFailed, "{Daemon} cannot start: {Reason}", daemon.Executable, e.Message);
                await service.DisposeAsync();
                return 1;
            }

            notify.Ready($"serving on {server.SocketPath}");
            log.LogInformation(HostLogEvents.Ready, "ready in {Ms} ms; control socket {Socket}", clock.ElapsedMilliseconds, server.SocketPath);
            using var watchdogStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var watchdog = Watchdog.RunAsync(notify, server, log, watchdogStop.Token);

            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
            }

            log.LogInformation(HostLogEvents.ShutdownRequested, "shutdown requested");
            notify.Stopping("shutting down");
            await watchdogStop.CancelAsync();
            await watchdog;
            await new ShutdownSequence(log, ShutdownBudget)
                .Phase("stop-accepting", async ct =>
                {
                    await server.StopAcceptingAsync();
                    await service.StopAcceptingAsync(ct);
                })
                .Phase("drain", async ct =>
                {
                    var drained = await server.DrainAsync(ShutdownBudget / 2);
                    await service.DrainAsync(ct);
                    if (!drained)
                    {
                        log.LogWarning(HostLogEvents.ShutdownPhaseFailed, "requests still running at the drain deadline were cancelled");
                    }
                })
                .Phase("flush", _ =>
                {
                    logs.Flush();
                    return Task.CompletedTask;
                })
                .Phase("close-storage", async _ =>
                {
                    await service.DisposeAsync();
                    await server.DisposeAsync();
                })
                .RunAsync();
            log.LogInformation(HostLogEvents.Stopped, "stopped after {Uptime:F1} s", clock.Elapsed.TotalSeconds);
        }
        return 0;
    }

    private static IpcServerOptions ServerOptions(DaemonInfo daemon, BoxPaths paths, BoxBotConfig config)
    {
        // Installed, systemd's .socket unit made the socket (owner, group and mode from the unit) and passes it in;
        // taken before the service starts any child, so none inherits it.
        var inherited = SystemdListenFds.TakeListener();
        if (inherited is null && paths.IsDevelopment)
        {
            Directory.CreateDirectory(paths.RuntimeDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
        else if (inherited is null && !Directory.Exists(paths.RuntimeDir))
        {
            throw new IOException($"runtime folder {paths.RuntimeDir} does not exist (installed, the boxbot package's tmpfiles.d entry makes it and "
                + $"the unit's .socket listens there: systemctl start {InstallLayout.Socket(daemon)}; for development set BOXBOT_HOME or use `boxbot dev up`)");
        }
        var group = config.SocketGroupFor(daemon);
        return new IpcServerOptions
        {
            SocketPath = paths.SocketPath(daemon),
            SocketGroup = group.Length == 0 ? null : group,
            MaxConnections = config.Ipc.MaxConnections,
            InheritedListener = inherited,
        };
    }

    private static SystemStatus Status(DaemonContext context, IDaemonService service, DateTimeOffset startedAt, TimeSpan uptime)
    {
        var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["socket"] = context.Server.SocketPath,
            ["connections"] = context.Server.ActiveConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        service.AddStatus(details);
        return new SystemStatus
        {
            Name = context.Daemon.Name,
            Version = BuildInfo.Version,
            Pid = Environment.ProcessId,
            Uid = LinuxProcess.EffectiveUid,
            StartedAt = startedAt,
            UptimeSeconds = Math.Round(uptime.TotalSeconds, 3),
            ConfigPath = Describe(context.LoadedConfig),
            Details = details,
        };
    }

    private static string Describe(LoadedConfig loaded) => loaded.FromFile ? loaded.SourcePath : $"(defaults; {loaded.SourcePath} not found)";
}
