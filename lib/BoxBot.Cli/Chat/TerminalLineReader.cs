namespace BoxBot.Cli.Chat;

/// <summary>
/// Reads one line at a time from the terminal through <see cref="LineEditor"/>. While a line is being edited Ctrl-C is a
/// key (the editor throws the line away); between lines it is the terminal's interrupt again, which cancels a turn.
/// </summary>
internal sealed class TerminalLineReader(string prompt)
{
    private readonly LineEditor _editor = new(Console.Out, ColumnCount, prompt);

    /// <summary>True when both ends are a terminal: the editor draws on stdout and reads keys from stdin.</summary>
    public static bool Available => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    /// <summary>The next line to send, or null when the person left (Ctrl-D on an empty line, or the terminal went away).</summary>
    public string? ReadLine()
    {
        Console.TreatControlCAsInput = true;
        try
        {
            _editor.Begin();
            while (true)
            {
                ConsoleKeyInfo key;
                try
                {
                    key = Console.ReadKey(intercept: true);
                }
                catch (InvalidOperationException)
                {
                    return null; // the terminal is gone (hang-up)
                }
                switch (_editor.Key(key))
                {
                    case EditOutcome.Submitted:
                        return _editor.Line;
                    case EditOutcome.Leave:
                        return null;
                    case EditOutcome.Editing:
                    case EditOutcome.Discarded:
                    default:
                        break;
                }
            }
        }
        finally
        {
            Console.TreatControlCAsInput = false;
        }
    }

    private static int ColumnCount()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
