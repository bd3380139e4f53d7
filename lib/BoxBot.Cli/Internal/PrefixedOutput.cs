using BoxBot.Contracts;

namespace BoxBot.Cli.Internal;

/// <summary>Interleaves the daemons' log lines on our stdout, whole lines only, each behind the daemon's name.</summary>
internal sealed class PrefixedOutput
{
    private static readonly int Width = Daemons.All.Max(d => d.Name.Length) + 1;
    private readonly Lock _gate = new();

    public void Line(string name, string? line)
    {
        if (line is null)
        {
            return;
        }
        var text = $"{name.PadRight(Width)}| {Humanize(line)}";
        lock (_gate)
        {
            Console.Out.WriteLine(text);
        }
    }

    public void Note(string message) => Line("dev", message);

    // "<6>hosting.agent[101]: ready" → "info  hosting.agent[101]: ready": the priority prefix is for journald, not eyes.
    private static string Humanize(string line)
    {
        if (line.Length < 3 || line[0] != '<' || line[2] != '>' || !char.IsAsciiDigit(line[1]))
        {
            return line;
        }
        var level = line[1] switch
        {
            '0' or '1' or '2' => "crit ",
            '3' => "error",
            '4' => "warn ",
            '5' or '6' => "info ",
            _ => "debug",
        };
        return level + " " + line[3..];
    }
}
