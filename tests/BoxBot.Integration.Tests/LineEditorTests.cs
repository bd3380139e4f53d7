using BoxBot.Cli.Chat;

namespace BoxBot.Integration.Tests;

/// <summary>The chat prompt's editing, key by key, without a terminal (the pseudo-terminal tests in AgentChatTests drive the real one).</summary>
public class LineEditorTests
{
    private readonly StringWriter _screen = new();
    private LineEditor _editor = null!;

    [SetUp]
    public void SetUp()
    {
        _editor = new LineEditor(_screen, () => 20, "> ");
        _editor.Begin();
    }

    private static ConsoleKeyInfo Char(char c) => new(c, ConsoleKey.NoName, false, false, false);

    private static ConsoleKeyInfo Key(ConsoleKey key) => new('\0', key, false, false, false);

    private static ConsoleKeyInfo Ctrl(char letter) => new((char)(letter - 'a' + 1), ConsoleKey.A + (letter - 'a'), false, false, true);

    private EditOutcome Type(string text)
    {
        var outcome = EditOutcome.Editing;
        foreach (var c in text)
        {
            outcome = _editor.Key(Char(c));
        }
        return outcome;
    }

    [Test]
    public void Ctrl_C_throws_the_line_away_and_what_is_typed_next_is_the_whole_line()
    {
        Type("abandoned text");

        Assert.That(_editor.Key(Ctrl('c')), Is.EqualTo(EditOutcome.Discarded));
        Type("new text");
        Assert.That(_editor.Key(Key(ConsoleKey.Enter)), Is.EqualTo(EditOutcome.Submitted));
        Assert.That(_editor.Line, Is.EqualTo("new text"));
        Assert.That(_screen.ToString(), Does.Contain("^C\r\n"));
    }

    [Test]
    public void Ctrl_D_leaves_only_on_an_empty_line_and_otherwise_deletes_under_the_cursor()
    {
        Type("ab");
        _editor.Key(Key(ConsoleKey.LeftArrow));

        Assert.That(_editor.Key(Ctrl('d')), Is.EqualTo(EditOutcome.Editing));
        Assert.That(_editor.Line, Is.EqualTo("a"));
        Assert.That(_editor.Key(Ctrl('d')), Is.EqualTo(EditOutcome.Editing), "at the end of a non-empty line Ctrl-D does nothing");
        _editor.Key(Ctrl('u'));
        Assert.That(_editor.Key(Ctrl('d')), Is.EqualTo(EditOutcome.Leave));
    }

    [Test]
    public void Keys_edit_at_the_cursor_as_in_a_shell()
    {
        Type("world");
        _editor.Key(Key(ConsoleKey.Home));
        Type("hello ");
        _editor.Key(Ctrl('e'));
        Type(" again now");
        _editor.Key(Ctrl('w'));
        _editor.Key(Key(ConsoleKey.Backspace));
        _editor.Key(Key(ConsoleKey.LeftArrow));
        _editor.Key(Ctrl('k'));

        Assert.That((_editor.Line, _editor.Cursor), Is.EqualTo(("hello world agai", 16)));
    }

    [Test]
    public void Up_and_down_walk_this_sessions_lines_and_come_back_to_the_draft()
    {
        Type("first");
        _editor.Key(Key(ConsoleKey.Enter));
        _editor.Begin();
        Type("second");
        _editor.Key(Key(ConsoleKey.Enter));
        _editor.Begin();
        Type("draft");

        _editor.Key(Key(ConsoleKey.UpArrow));
        _editor.Key(Key(ConsoleKey.UpArrow));
        Assert.That(_editor.Line, Is.EqualTo("first"));
        _editor.Key(Key(ConsoleKey.DownArrow));
        _editor.Key(Key(ConsoleKey.DownArrow));
        Assert.That(_editor.Line, Is.EqualTo("draft"));
    }

    [Test]
    public void A_surrogate_pair_is_one_step_and_never_cut_in_half()
    {
        foreach (var c in "a😀b")
        {
            _editor.Key(Char(c));
        }
        _editor.Key(Key(ConsoleKey.LeftArrow));
        _editor.Key(Key(ConsoleKey.Backspace));

        Assert.That(_editor.Line, Is.EqualTo("ab"));
    }

    [Test]
    public void Control_bytes_and_escape_never_land_in_the_line()
    {
        _editor.Key(new ConsoleKeyInfo('\x1b', ConsoleKey.Escape, false, false, false));
        _editor.Key(new ConsoleKeyInfo('\x07', ConsoleKey.NoName, false, false, false));
        _editor.Key(Key(ConsoleKey.F5));
        Type("ok");

        Assert.That(_editor.Line, Is.EqualTo("ok"));
    }

    [Test]
    public void A_line_longer_than_the_terminal_is_redrawn_from_its_first_row()
    {
        Type(new string('x', 30)); // "> " + 30 characters: two rows of 20 columns
        _screen.GetStringBuilder().Clear();

        _editor.Key(Key(ConsoleKey.Backspace));

        // The cursor was on the second row: the redraw goes up one row, clears both and writes the line again.
        Assert.That(_screen.ToString(), Does.StartWith("\r\x1b[0K\x1b[1A\r\x1b[0K> " + new string('x', 29)));
    }
}
