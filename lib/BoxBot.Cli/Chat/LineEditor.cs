using System.Globalization;
using System.Text;

namespace BoxBot.Cli.Chat;

/// <summary>What a key did to the line being edited.</summary>
internal enum EditOutcome
{
    /// <summary>The line changed or the cursor moved; keep reading keys.</summary>
    Editing,
    /// <summary>Enter: <see cref="LineEditor.Line"/> is the line to send.</summary>
    Submitted,
    /// <summary>Ctrl-C: the line was thrown away (nothing of it is ever sent) and a fresh prompt shown.</summary>
    Discarded,
    /// <summary>Ctrl-D on an empty line: the person is leaving.</summary>
    Leave,
}

/// <summary>
/// The prompt line of interactive <c>boxbot chat</c>, edited the way a shell user expects (readline's keys): typing
/// inserts at the cursor; Backspace, Delete, Left, Right, Home, End, Ctrl-A/E/B/F, Ctrl-U/K (cut to the start/end),
/// Ctrl-W (cut a word), Up/Down (this session's earlier lines), Ctrl-L (clear the screen). Ctrl-C throws the line away
/// and starts a fresh one; Ctrl-D leaves on an empty line and deletes the character under the cursor otherwise, so a
/// half-typed line is never sent by accident.
/// </summary>
/// <remarks>
/// Pure state plus terminal output (VT100 sequences, the way linenoise redraws a line that wraps over several rows):
/// keys come in as <see cref="ConsoleKeyInfo"/>, so tests drive it without a terminal, and <see cref="TerminalLineReader"/>
/// feeds it from <see cref="Console.ReadKey(bool)"/>. History stays in memory: what people say to the box is not
/// written to a dot-file in their home.
/// </remarks>
internal sealed class LineEditor(TextWriter output, Func<int> columns, string prompt)
{
    private const int MaxHistory = 100;

    private readonly StringBuilder _buffer = new();
    private readonly List<string> _history = [];
    private int _cursor;
    private int _historyIndex;
    private string _draft = "";
    // Where the last redraw left things: the cursor's column offset and the most rows the line has taken.
    private int _oldCursorColumns;
    private int _maxRows;

    /// <summary>The line as typed so far (after <see cref="EditOutcome.Submitted"/>: the line to send).</summary>
    public string Line => _buffer.ToString();

    /// <summary>The cursor's position in <see cref="Line"/>, in UTF-16 units.</summary>
    public int Cursor => _cursor;

    /// <summary>Shows the prompt for a new, empty line.</summary>
    public void Begin()
    {
        _buffer.Clear();
        _cursor = 0;
        _historyIndex = _history.Count;
        _draft = "";
        _oldCursorColumns = 0;
        _maxRows = 0;
        Refresh();
    }

    /// <summary>Applies one key; says whether the line is still being edited, was sent, thrown away, or the person left.</summary>
    public EditOutcome Key(ConsoleKeyInfo key)
    {
        var c = key.KeyChar;
        var control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                return Submit();
            case ConsoleKey.Backspace:
                DeleteBefore();
                return EditOutcome.Editing;
            case ConsoleKey.Delete:
                DeleteAt();
                return EditOutcome.Editing;
            case ConsoleKey.LeftArrow:
                Move(PreviousBoundary(_cursor));
                return EditOutcome.Editing;
            case ConsoleKey.RightArrow:
                Move(NextBoundary(_cursor));
                return EditOutcome.Editing;
            case ConsoleKey.Home:
                Move(0);
                return EditOutcome.Editing;
            case ConsoleKey.End:
                Move(_buffer.Length);
                return EditOutcome.Editing;
            case ConsoleKey.UpArrow:
                Recall(-1);
                return EditOutcome.Editing;
            case ConsoleKey.DownArrow:
                Recall(+1);
                return EditOutcome.Editing;
            default:
                break;
        }
        // Control characters: the terminal sends them as bytes 1..31 (and 127); .NET may report them with either the
        // character or the letter plus the Control modifier, so both are read.
        var letter = c is >= '\x01' and <= '\x1a' ? (char)('a' + c - 1) : control && key.Key is >= ConsoleKey.A and <= ConsoleKey.Z ? (char)('a' + (key.Key - ConsoleKey.A)) : '\0';
        switch (letter)
        {
            case 'c':
                return Discard();
            case 'd':
                if (_buffer.Length == 0)
                {
                    output.Write("\r\n");
                    output.Flush();
                    return EditOutcome.Leave;
                }
                DeleteAt();
                return EditOutcome.Editing;
            case 'a':
                Move(0);
                return EditOutcome.Editing;
            case 'e':
                Move(_buffer.Length);
                return EditOutcome.Editing;
            case 'b':
                Move(PreviousBoundary(_cursor));
                return EditOutcome.Editing;
            case 'f':
                Move(NextBoundary(_cursor));
                return EditOutcome.Editing;
            case 'h':
                DeleteBefore();
                return EditOutcome.Editing;
            case 'u':
                _buffer.Remove(0, _cursor);
                _cursor = 0;
                Refresh();
                return EditOutcome.Editing;
            case 'k':
                _buffer.Length = _cursor;
                Refresh();
                return EditOutcome.Editing;
            case 'w':
                DeleteWord();
                return EditOutcome.Editing;
            case 'p':
                Recall(-1);
                return EditOutcome.Editing;
            case 'n':
                Recall(+1);
                return EditOutcome.Editing;
            case 'l':
                output.Write("\x1b[H\x1b[2J");
                _maxRows = 0;
                _oldCursorColumns = 0;
                Refresh();
                return EditOutcome.Editing;
            case 'j' or 'm':
                return Submit();
            case 'i':
                // Tab: a space (a tab's width depends on the column, which the redraw does not track).
                Insert(" ");
                return EditOutcome.Editing;
            default:
                break;
        }
        if (c == '\x7f')
        {
            DeleteBefore();
        }
        else if (!char.IsControl(c) && c != '\0' && !control)
        {
            Insert(c.ToString());
        }
        // Anything else (function keys, Alt combinations, stray control bytes) is ignored: it never lands in the line.
        return EditOutcome.Editing;
    }

    private EditOutcome Submit()
    {
        Move(_buffer.Length);
        output.Write("\r\n");
        output.Flush();
        var line = Line;
        if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
        {
            _history.Add(line);
            if (_history.Count > MaxHistory)
            {
                _history.RemoveAt(0);
            }
        }
        return EditOutcome.Submitted;
    }

    private EditOutcome Discard()
    {
        Move(_buffer.Length);
        output.Write("^C\r\n");
        Begin();
        return EditOutcome.Discarded;
    }

    private void Insert(string text)
    {
        _buffer.Insert(_cursor, text);
        _cursor += text.Length;
        Refresh();
    }

    private void DeleteBefore()
    {
        if (_cursor == 0)
        {
            return;
        }
        var start = PreviousBoundary(_cursor);
        _buffer.Remove(start, _cursor - start);
        _cursor = start;
        Refresh();
    }

    private void DeleteAt()
    {
        if (_cursor == _buffer.Length)
        {
            return;
        }
        _buffer.Remove(_cursor, NextBoundary(_cursor) - _cursor);
        Refresh();
    }

    private void DeleteWord()
    {
        var start = _cursor;
        while (start > 0 && char.IsWhiteSpace(_buffer[start - 1]))
        {
            start--;
        }
        while (start > 0 && !char.IsWhiteSpace(_buffer[start - 1]))
        {
            start--;
        }
        _buffer.Remove(start, _cursor - start);
        _cursor = start;
        Refresh();
    }

    private void Move(int position)
    {
        _cursor = Math.Clamp(position, 0, _buffer.Length);
        Refresh();
    }

    private void Recall(int step)
    {
        var next = _historyIndex + step;
        if (next < 0 || next > _history.Count)
        {
            return;
        }
        if (_historyIndex == _history.Count)
        {
            _draft = Line;
        }
        _historyIndex = next;
        _buffer.Clear().Append(next == _history.Count ? _draft : _history[next]);
        _cursor = _buffer.Length;
        Refresh();
    }

    /// <summary>Cursor steps skip a whole surrogate pair, so an emoji is never cut in half.</summary>
    private int PreviousBoundary(int i) => i <= 0 ? 0 : i >= 2 && char.IsLowSurrogate(_buffer[i - 1]) && char.IsHighSurrogate(_buffer[i - 2]) ? i - 2 : i - 1;

    private int NextBoundary(int i) => i >= _buffer.Length ? _buffer.Length
        : i + 1 < _buffer.Length && char.IsHighSurrogate(_buffer[i]) && char.IsLowSurrogate(_buffer[i + 1]) ? i + 2 : i + 1;

    /// <summary>
    /// Redraws the prompt and the line, which may wrap over several rows: go to the last row the line used, clear each
    /// row on the way up, write it all again, then put the cursor where it belongs (linenoise's multi-line refresh).
    /// </summary>
    private void Refresh()
    {
        var cols = Math.Max(10, columns());
        var promptColumns = Width(prompt);
        var lineColumns = Width(Line);
        var cursorColumns = promptColumns + Width(Line[.._cursor]);
        var rows = (promptColumns + lineColumns + cols - 1) / cols;
        var oldCursorRow = (_oldCursorColumns + cols) / cols;
        var oldRows = _maxRows;
        _maxRows = Math.Max(_maxRows, rows);

        var text = new StringBuilder();
        if (oldRows - oldCursorRow > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\x1b[{oldRows - oldCursorRow}B");
        }
        for (var i = 0; i < oldRows - 1; i++)
        {
            text.Append("\r\x1b[0K\x1b[1A");
        }
        text.Append("\r\x1b[0K").Append(prompt).Append(Line);
        // At the very end of a full row the terminal waits to wrap: move to the next row now, so the cursor is seen there.
        if (_cursor > 0 && _cursor == _buffer.Length && cursorColumns % cols == 0)
        {
            text.Append("\n\r");
            rows++;
            _maxRows = Math.Max(_maxRows, rows);
        }
        var cursorRow = (cursorColumns + cols) / cols;
        if (rows - cursorRow > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\x1b[{rows - cursorRow}A");
        }
        var column = cursorColumns % cols;
        text.Append(column > 0 ? string.Create(CultureInfo.InvariantCulture, $"\r\x1b[{column}C") : "\r");
        _oldCursorColumns = cursorColumns;
        output.Write(text.ToString());
        output.Flush();
    }

    /// <summary>
    /// Terminal columns a text takes: one per character, two for one outside the Basic Multilingual Plane (emoji, which
    /// terminals draw wide), none for combining marks. Close enough to wcwidth for a chat line.
    /// </summary>
    internal static int Width(string text)
    {
        var width = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                width += 2;
                i++;
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format))
            {
                width++;
            }
        }
        return width;
    }
}
