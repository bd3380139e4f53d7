using System.Diagnostics;
using BoxBot.Config;
using BoxBot.Contracts;

namespace BoxBot.Cli.Internal;

/// <summary>
/// <c>boxbot dev up</c>: starts the five daemons as child processes, prefixes their logs, waits
/// until each answers <c>system.status</c>, and on Ctrl-C/SIGTERM (or one daemon exiting) stops
/// them all: SIGTERM, then SIGKILL for any still alive after the grace period.
/// </summary>
internal static class DevSupervisor
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
    // Daemons shut down within 5 s; past this they are killed.
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(7);

    public static async Task<int> RunAsync(string? configFile, CancellationToken stop)
    {
        var home = DevLayout.ResolveHome();
        var paths = BoxPaths.UnderHome(home);
        var output = new PrefixedOutput();
        LoadedConfig config;
        try
        {
            // A named config is checked before anything is made: a typo in --config leaves no half-made tree behind.
            var named = configFile is null ? null : ConfigLoader.Load(Path.GetFullPath(configFile));
            var generated = DevLayout.Prepare(paths);
            config = named ?? ConfigLoader.Load(paths.ConfigFile);
            if (DevLayout.EnsureJobUser(config.Config) is { } created)
            {
                output.Note(created);
            }
            if (generated.Count > 0)
            {
                output.Note($"generated development credentials in {paths.CredentialsDir}: {string.Join(", ", generated)}");
            }
        }
        catch (ConfigException e)
        {
            foreach (var error in e.Errors)
            {
                await Console.Error.WriteLineAsync(error.ToString());
            }
            return Fail("the configuration has errors; nothing was started");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CredentialException)
        {
            return Fail($"cannot prepare {home}: {e.Message}");
        }

        var binDir = DevLayout.BinDir();
        var missing = Daemons.All.Where(d => !File.Exists(Path.Combine(binDir, d.Executable))).Select(d => d.Executable).ToList();
        if (missing.Count > 0)
        {
            return Fail($"cannot find {string.Join(", ", missing)} in {binDir}: run `make publish` (or set BOXBOT_BIN_DIR to the folder holding the daemons)");
        }
        var running = (await DaemonProbe.ProbeAllAsync(paths, TimeSpan.FromSeconds(2), stop)).Where(d => d.Up).ToList();
        if (running.Count > 0)
        {
            return Fail($"boxbot is already running under {home} ({string.Join(", ", running.Select(d => $"{d.Name} pid {d.Pid}"))}); stop it first");
        }

        foreach (var problem in Doctor.LayoutCheck.DevelopmentProblems(paths))
        {
            output.Note($"warning: {problem.Message}{(problem.Fix is null ? "" : $"  [fix: {problem.Fix}]")} (`boxbot doctor` fails on this)");
        }
        var broker = HouseholdBroker(paths, config.Config, output);
        output.Note($"BOXBOT_HOME={home}; config {config.SourcePath}; daemons from {binDir}");
        output.Note("in another terminal:");
        output.Note($"  export BOXBOT_HOME={home}");
        output.Note($"  {Path.Combine(AppContext.BaseDirectory, "boxbot")} status");
        DevChildren children;
        try
        {
            children = DevChildren.Start(binDir, home, configFile is null ? null : config.SourcePath, output, broker);
        }
        catch (IOException e)
        {
            return Fail(e.Message);
        }
        await using var _ = children;
        var exitCode = ExitCodes.Ok;
        try
        {
            var ready = await WaitReadyAsync(paths, children, stop);
            if (ready)
            {
                output.Note($"all {Daemons.All.Count} daemons up; Ctrl-C stops them");
            }
            else if (!stop.IsCancellationRequested)
            {
                exitCode = ExitCodes.Failure;
            }
            if (exitCode == ExitCodes.Ok)
            {
                var exited = await children.WaitAnyExitAsync(stop);
                if (exited is not null && !stop.IsCancellationRequested)
                {
                    output.Note($"{exited.Name} exited with code {exited.Process.ExitCode}; stopping the others");
                    exitCode = ExitCodes.Failure;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        output.Note("stopping all daemons");
        var stragglers = await children.StopAllAsync(StopGrace);
        output.Note(stragglers.Count == 0
            ? "all daemons stopped"
            : $"killed {string.Join(", ", stragglers)} after {StopGrace.TotalSeconds:0} s without exiting");
        return exitCode;
    }

    /// <summary>
    /// With mesh.broker = "local", the household broker as installed boxes run it (nats-server in JWT mode, users minted by
    /// the plugin host), on a free loopback port written where the plugin host and the CLI find it. Null (with a note) when
    /// nats-server is not installed or the mesh uses another broker.
    /// </summary>
    private static DevChildren.Broker? HouseholdBroker(BoxPaths paths, BoxBotConfig config, PrefixedOutput output)
    {
        if (config.Mesh.Broker != MeshBroker.Local)
        {
            return null;
        }
        var server = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server" }.FirstOrDefault(File.Exists);
        if (server is null)
        {
            output.Note("warning: nats-server is not installed (Debian package nats-server; scripts/install-prereqs.sh): the box stays off the mesh");
            return null;
        }
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BoxBot.Mesh.Broker.BrokerPaths brokerPaths;
        try
        {
            (_, brokerPaths) = Mesh.MeshInitCommand.Run(paths, config.Mesh with { Port = port });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BoxBot.Mesh.MeshException or ArgumentException)
        {
            output.Note($"warning: the household broker could not be set up ({e.Message}): the box stays off the mesh");
            return null;
        }
        output.Note($"household broker: nats-server on 127.0.0.1:{port} ({brokerPaths.Config})");
        return new DevChildren.Broker(server, brokerPaths.Config, port);
    }

    private static async Task<bool> WaitReadyAsync(BoxPaths paths, DevChildren children, CancellationToken stop)
    {
        var deadline = Stopwatch.StartNew();
        var pending = Daemons.All.ToList();
        while (pending.Count > 0)
        {
            stop.ThrowIfCancellationRequested();
            if (children.FirstExited() is { } dead)
            {
                Console.Error.WriteLine($"boxbot dev: {dead.Name} exited with code {dead.Process.ExitCode} while starting (see its log above)");
                return false;
            }
            if (deadline.Elapsed > ReadyTimeout)
            {
                Console.Error.WriteLine($"boxbot dev: not ready after {ReadyTimeout.TotalSeconds:0} s: {string.Join(", ", pending.Select(d => d.Name))}");
                return false;
            }
            foreach (var daemon in pending.ToList())
            {
                if ((await DaemonProbe.ProbeAsync(daemon, paths, TimeSpan.FromSeconds(2), stop)).Up)
                {
                    pending.Remove(daemon);
                }
            }
            if (pending.Count > 0)
            {
                await Task.Delay(100, stop);
            }
        }
        return true;
    }

    private static int Fail(string message) => Failures.Fail("dev up: " + message);
}
