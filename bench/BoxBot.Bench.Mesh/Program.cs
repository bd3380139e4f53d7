using System.Diagnostics;
using System.Globalization;
using BoxBot.Bench.Mesh;

// The mesh's cost, against baselines measured in the same run (never in tests), on a development box of the published
// executables (`boxbot dev up` in a temp home: the household broker in JWT mode, the plugin host on it):
//  1. a small call to the box's device (get_status) from an admin user, through NATS.Client.Core, the broker and the
//     plugin host's handler, against a raw request/reply echo of the same payload by a device user on the same broker
//     and the same caller connection, interleaved (p50, p99, ratio; target <= 1.3x);
//  2. `boxbot mesh invoke BOX get_status`, the whole command, against a bare `python3 -I -S -c 'print(1)'`
//     (p50, ratio; target <= 2x).
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
