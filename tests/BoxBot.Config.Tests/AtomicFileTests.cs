namespace BoxBot.Config.Tests;

public class AtomicFileTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [TestCase("600")]
    [TestCase("640")]
    [TestCase("644")]
    public void The_file_gets_exactly_the_requested_mode(string mode)
    {
        var path = _dir.File("state.json");

        AtomicFile.WriteAllText(path, "{}", Modes.Octal(mode));

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Modes.Octal(mode)));
        Assert.That(File.ReadAllText(path), Is.EqualTo("{}"));
    }

    [Test]
    public void No_temporary_files_are_left_behind()
    {
        var path = _dir.File("state.json");

        AtomicFile.WriteAllText(path, "one", Modes.Private);
        AtomicFile.WriteAllText(path, "two", Modes.Private);

        Assert.That(Directory.GetFileSystemEntries(_dir.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void An_existing_file_is_replaced_by_a_new_one()
    {
        var path = _dir.Write("state.json", "old contents that are longer", Modes.Octal("644"));
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read);

        AtomicFile.WriteAllText(path, "new", Modes.Private);

        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(Modes.Private));
        // A reader that had the old file open still sees the old contents: the file was swapped, not rewritten.
        Assert.That(new StreamReader(reader).ReadToEnd(), Is.EqualTo("old contents that are longer"));
    }

    [Test]
    public void Text_is_written_as_utf8_without_a_byte_order_mark()
    {
        var path = _dir.File("note.txt");

        AtomicFile.WriteAllText(path, "é", Modes.Private);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 0xC3, 0xA9 }));
    }

    [Test]
    public void A_missing_folder_is_an_error_and_creates_nothing()
    {
        var path = _dir.File(Path.Combine("missing", "state.json"));

        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(path, "x", Modes.Private));
        Assert.That(Directory.GetFileSystemEntries(_dir.Path), Is.Empty);
    }
}
