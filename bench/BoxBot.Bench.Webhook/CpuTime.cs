using System.Globalization;

namespace BoxBot.Bench.Webhook;

/// <summary>
/// CPU time a server spent (user + system, all its threads), from /proc: divided by the requests of a run it says
/// what a request costs the server itself, which wrk's share of the two cores does not blur.
/// </summary>
internal static class CpuTime
{
    // /proc reports in USER_HZ, which is 100 on every Linux architecture the box runs on.
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds of <paramref name="pid"/> and, when <paramref name="withChildren"/>, its live children (nginx's workers).</summary>
    public static double Seconds(int pid, bool withChildren = false)
    {
        var total = Ticks(pid);
        if (withChildren)
        {
            foreach (var stat in Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "stat")))
            {
                if (Parent(stat) == pid && int.TryParse(Path.GetFileName(Path.GetDirectoryName(stat)), CultureInfo.InvariantCulture, out var child))
                {
                    total += Ticks(child);
                }
            }
        }
        return total / TicksPerSecond;
    }

    private static long Ticks(int pid)
    {
        var fields = Fields($"/proc/{pid}/stat") ?? throw new BenchException($"process {pid} is gone");
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static int Parent(string stat) => Fields(stat) is { } fields ? int.Parse(fields[1], CultureInfo.InvariantCulture) : -1;

    /// <summary>The fields after "pid (comm)": state is [0], ppid [1], utime [11], stime [12] (proc(5) numbers them 3, 4, 14, 15).</summary>
    private static string[]? Fields(string stat)
    {
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // not a process, or it exited while we looked
        }
    }
}
