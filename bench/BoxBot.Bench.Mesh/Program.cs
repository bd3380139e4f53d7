using System.Diagnostics;
using System.Globalization;
using BoxBot.Bench.Mesh;

// The mesh's cost, against baselines measured in the same run (never in tests), on a development box of the published
// executables (`boxbot dev up` in a temp home: the household broker in JWT mode, the plugin host on it):
//  1. a small call to the box's device (get_status) from an admin user, through NATS.Client.Core, the broker and the
//     plugin host's handler, against a raw request/reply echo of the same payload by a device user on the same broker
//     and the same caller connection, interleaved (p50, p99, ratio; target <= 1.3x);
//  2. `boxbot mesh invoke BOX get_status`, the whole command, against a bare `python3 -I -S -c 'print(1)'`
//     (p50, ratio; target <= 2x);
//  3. a loaded plugin's function (the reference's hello_world) against get_status, interleaved on the same caller
//     (p50, ratio; target <= 2x); the plugin's cold load (`boxbot plugins load`, the whole command), and the resident
//     memory of its idle process (target <= 15 MiB).
var cli = Path.GetFullPath(args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "out/bin/boxbot");
var rounds = Option("--rounds", 2000);
var commands = Option("--commands", 40);
if (!File.Exists(cli))
{
    Console.Error.WriteLine($"bench: {cli} not found: run `make publish` first");
    return 1;
}
var home = Directory.CreateTempSubdirectory("boxbot-bench-mesh-").FullName;
try
{
    await using var box = await MeshBox.StartAsync(cli, home);
    await using var calls = await box.ConnectAsync();
    Console.WriteLine($"mesh: box '{MeshBox.BoxId}' on the household broker at {calls.Url}; {rounds} calls each, interleaved");

    for (var i = 0; i < 200; i++)
    {
        await calls.BoxAsync();
        await calls.EchoAsync();
    }
    var boxTimes = new List<double>(rounds);
    var echoTimes = new List<double>(rounds);
    for (var i = 0; i < rounds; i++)
    {
        boxTimes.Add(await calls.BoxAsync());
        echoTimes.Add(await calls.EchoAsync());
    }
    Report("raw echo (device user)", echoTimes);
    Report("get_status (the box)", boxTimes);
    Console.WriteLine($"  ratio get_status / echo: p50 {Ratio(boxTimes, echoTimes, 50)}x, p99 {Ratio(boxTimes, echoTimes, 99)}x (target p50 <= 1.3x)");

    Console.WriteLine($"mesh: `boxbot mesh invoke {MeshBox.BoxId} get_status` against bare python3, {commands} each, interleaved");
    await box.InvokeAsync();
    await Bare();
    var invokeTimes = new List<double>(commands);
    var bareTimes = new List<double>(commands);
    for (var i = 0; i < commands; i++)
    {
        invokeTimes.Add(await box.InvokeAsync());
        bareTimes.Add(await Bare());
    }
    Report("python3 -I -S -c 'print(1)'", bareTimes);
    Report("boxbot mesh invoke", invokeTimes);
    Console.WriteLine($"  ratio invoke / python3: p50 {Ratio(invokeTimes, bareTimes, 50)}x (target <= 2x)");

    await box.InstallHelloWorldAsync();
    Console.WriteLine($"plugins: hello_world (a loaded plugin) against get_status, {rounds} calls each, interleaved");
    for (var i = 0; i < 200; i++)
    {
        await calls.BoxAsync();
        await calls.PluginAsync();
    }
    var statusTimes = new List<double>(rounds);
    var pluginTimes = new List<double>(rounds);
    for (var i = 0; i < rounds; i++)
    {
        statusTimes.Add(await calls.BoxAsync());
        pluginTimes.Add(await calls.PluginAsync());
    }
    Report("get_status (the box)", statusTimes);
    Report("hello_world (plugin)", pluginTimes);
    Console.WriteLine($"  ratio plugin / get_status: p50 {Ratio(pluginTimes, statusTimes, 50)}x, p99 {Ratio(pluginTimes, statusTimes, 99)}x (target p50 <= 2x)");

    var loads = new List<double>();
    for (var i = 0; i < 10; i++)
    {
        await box.PluginsAsync("unload", "hello-world");
        loads.Add(await box.PluginsAsync("load", "hello-world"));
    }
    Report("cold load (`boxbot plugins load`)", loads);
    await Task.Delay(2000);
    Console.WriteLine($"  idle plugin process: {PluginMemory("hello-world")}");
    return 0;
}
finally
{
    Directory.Delete(home, recursive: true);
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

// The plugin's interpreter (its environment names it) and the namespace's init above it (unshare): resident memory.
static string PluginMemory(string id)
{
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            if (!int.TryParse(Path.GetFileName(dir), out _) || !File.ReadAllText(dir + "/environ").Split('\0').Contains("BOXBOT_PLUGIN_ID=" + id))
            {
                continue;
            }
            var parent = File.ReadAllLines(dir + "/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal)).Split('\t')[^1].Trim();
            return $"python3 {Kib(dir, "VmRSS") / 1024.0:0.0} MiB RSS (target <= 15 MiB): {Kib(dir, "RssAnon") / 1024.0:0.0} MiB its own, "
                + $"{Kib(dir, "RssFile") / 1024.0:0.0} MiB the interpreter's files (shared with every job and plugin); "
                + $"its namespace's init (unshare) {Kib("/proc/" + parent, "VmRSS") / 1024.0:0.0} MiB";
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
    return "not found";
}

static long Kib(string dir, string field) =>
    long.Parse(File.ReadAllLines(dir + "/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
        .Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

static async Task<double> Bare()
{
    var clock = Stopwatch.StartNew();
    using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-I", "-S", "-c", "print(1)"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
    await p.StandardOutput.ReadToEndAsync();
    await p.WaitForExitAsync();
    return clock.Elapsed.TotalMilliseconds;
}

static double Percentile(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static string Ratio(List<double> a, List<double> b, int p) => (Percentile(a, p) / Percentile(b, p)).ToString("0.00", CultureInfo.InvariantCulture);

static void Report(string name, List<double> values) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {name,-30} p50 {Percentile(values, 50),8:0.000} ms   p99 {Percentile(values, 99),8:0.000} ms   max {values.Max(),8:0.000} ms"));
