using System.Text;
using System.Text.RegularExpressions;
using BoxBot.Config;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent.Skills;

/// <summary>A skill as the system prompt lists it.</summary>
public sealed record SkillInfo(string Name, string Description, bool BuiltIn);

/// <summary>A skill folder that was skipped, and why (for status and logs, never an exception).</summary>
public sealed record SkillProblem(string Path, string Reason);

/// <summary>Every usable skill, by name, and every skill folder that was skipped.</summary>
public sealed record SkillListing(IReadOnlyList<SkillInfo> Skills, IReadOnlyList<SkillProblem> Problems);

/// <summary>A skill with its text.</summary>
public sealed record Skill(string Name, string Description, bool BuiltIn, string Body);

/// <summary>A skill could not be loaded or saved; the message says why, in words fit for the model.</summary>
public sealed class SkillException(string message) : Exception(message);

/// <summary>
/// Skills: instructions the model loads when a task calls for them. Each is a folder holding <c>SKILL.md</c>, which starts
/// with front matter (<c>---</c>, <c>name: weather</c>, <c>description: ...</c>, <c>---</c>) and continues with the body.
/// Built-in skills ship with boxbot and are read-only here; skills the agent writes (<see cref="Save"/>) go to their own
/// folder and can never take a built-in skill's name, so a built-in skill always means what its makers wrote. A folder
/// that is not a good skill is listed as a problem and otherwise ignored. Symbolic links are not followed.
/// </summary>
public sealed partial class SkillCatalog
{
    public const string FileName = "SKILL.md";
    public const int MaxDescriptionLength = 300;

    /// <summary>The most a body may hold, in UTF-8 bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>The most agent-authored skills there may be: every skill is listed in every system prompt.</summary>
    public const int MaxAuthored = 100;

    // Front matter is short; a file longer than a full body and this much more is not read.
    private const int MaxFrontMatterBytes = 4096;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode FolderMode = FileMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string _builtInDir;
    private readonly string _authoredDir;
    private readonly ILogger _log;
    private readonly Lock _saving = new();

    /// <param name="builtInDir">The skills shipped with boxbot (read only; may be missing).</param>
    /// <param name="authoredDir">Where agent-authored skills are kept (created on the first save).</param>
    public SkillCatalog(string builtInDir, string authoredDir, ILogger log)
    {
        ArgumentException.ThrowIfNullOrEmpty(builtInDir);
        ArgumentException.ThrowIfNullOrEmpty(authoredDir);
        _builtInDir = Path.GetFullPath(builtInDir);
        _authoredDir = Path.GetFullPath(authoredDir);
        _log = log;
    }

    /// <summary>True for a name a skill may have: a lowercase letter, then 1 to 39 lowercase letters, digits and hyphens.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>Every usable skill, sorted by name, and the folders skipped with their reasons. Reads the folders each time.</summary>
    public SkillListing List()
    {
        var skills = new List<SkillInfo>();
        var problems = new List<SkillProblem>();
        var builtInNames = Folders(_builtInDir).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var (folder, builtIn) in Folders(_builtInDir).Select(f => (f, true)).Concat(Folders(_authoredDir).Select(f => (f, false))))
        {
            var name = Path.GetFileName(folder);
            if (!builtIn && builtInNames.Contains(name))
            {
                problems.Add(new SkillProblem(folder, "the name is a built-in skill's, which an authored skill may not replace"));
                continue;
            }
            try
            {
                var skill = Read(folder, builtIn);
                skills.Add(new SkillInfo(skill.Name, skill.Description, builtIn));
            }
            catch (SkillException e)
            {
                problems.Add(new SkillProblem(folder, e.Message));
            }
        }
        skills.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new SkillListing(skills, problems);
    }

    /// <summary>The skill called <paramref name="name"/>: the built-in one when there is one, else the agent's.</summary>
    /// <exception cref="SkillException">No usable skill has this name (the message says why).</exception>
    public Skill Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsValidName(name))
        {
            throw new SkillException($"\"{name}\" is not a skill name");
        }
        // A built-in skill's name is never looked up among the agent's, even when the built-in one is broken.
        var builtIn = Path.Combine(_builtInDir, name);
        var folder = Exists(builtIn) ? builtIn : Path.Combine(_authoredDir, name);
        if (!Exists(folder))
        {
            throw new SkillException($"there is no skill \"{name}\"");
        }
        try
        {
            return Read(folder, builtIn: folder == builtIn);
        }
        catch (SkillException e)
        {
            throw new SkillException($"the skill \"{name}\" cannot be used: {e.Message}");
        }
    }

    /// <summary>
    /// Writes an agent-authored skill to <c>authoredDir/name/SKILL.md</c> (file 0644 in a folder 0755, atomically),
    /// replacing an earlier agent-authored skill of that name. A built-in skill's name is refused.
    /// </summary>
    /// <exception cref="SkillException">The name, description or body breaks a rule, or the name is a built-in skill's.</exception>
    public SkillInfo Save(string name, string description, string body)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(body);
        if (!IsValidName(name))
        {
            throw new SkillException($"\"{name}\" is not a skill name: a lowercase letter, then 1 to 39 lowercase letters, digits or hyphens");
        }
        var cleanDescription = CheckDescription(description.Trim());
        var cleanBody = body.ReplaceLineEndings("\n").Trim('\n');
        if (cleanBody.Trim().Length == 0)
        {
            throw new SkillException("a skill needs a body: the instructions themselves");
        }
        if (StrictUtf8.GetByteCount(cleanBody) > MaxBodyBytes)
        {
            throw new SkillException($"the body is {StrictUtf8.GetByteCount(cleanBody)} bytes; at most {MaxBodyBytes}");
        }
        if (cleanBody.Contains('\0', StringComparison.Ordinal))
        {
            throw new SkillException("the body holds a NUL character");
        }
        if (Exists(Path.Combine(_builtInDir, name)))
        {
            throw new SkillException($"\"{name}\" is a built-in skill; choose another name");
        }
        var written = Format(name, cleanDescription, cleanBody);
        lock (_saving)
        {
            var folder = Path.Combine(_authoredDir, name);
            if (!Exists(folder) && Folders(_authoredDir).Count() >= MaxAuthored)
            {
                throw new SkillException($"there are {MaxAuthored} skills of yours already, the most there may be");
            }
            CreateFolder(_authoredDir);
            CreateFolder(folder);
            var file = Path.Combine(folder, FileName);
            if (new FileInfo(file).LinkTarget is not null || Directory.Exists(file))
            {
                throw new SkillException($"{file} is not a plain file; it is left as it is");
            }
            AtomicFile.WriteAllText(file, written, FileMode);
        }
        LogSaved(_log, name);
        return new SkillInfo(name, cleanDescription, BuiltIn: false);
    }

    /// <summary>The SKILL.md text for a skill: front matter the parser reads back to the same name, description and body.</summary>
    internal static string Format(string name, string description, string body)
    {
        // One pair of surrounding quotes is taken away when read; a description that has its own gets another pair.
        var quoted = description.Length >= 2 && description[0] is '"' or '\'' && description[^1] == description[0]
            ? $"\"{description}\""
            : description;
        return $"---\nname: {name}\ndescription: {quoted}\n---\n{body}\n";
    }

    /// <summary>
    /// Reads <c>SKILL.md</c> text: <c>---</c> on the first line, then <c>key: value</c> lines (blank lines and <c># comments</c>
    /// allowed; a value may be in quotes; keys other than name and description are ignored, with any indented lines under
    /// them), then <c>---</c>, then the body.
    /// </summary>
    /// <exception cref="SkillException">It is not that shape, or name or description is missing or breaks a rule.</exception>
    internal static (string Name, string Description, string Body) Parse(string text)
    {
        var lines = text.TrimStart('\uFEFF').ReplaceLineEndings("\n").Split('\n');
        if (lines[0].TrimEnd() != "---")
        {
            throw new SkillException($"{FileName} does not start with front matter (a line \"---\")");
        }
        var end = Array.FindIndex(lines, 1, l => l.TrimEnd() == "---");
        if (end < 0)
        {
            throw new SkillException("the front matter has no closing \"---\" line");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        for (var i = 1; i < end; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                if (key is null or "name" or "description")
                {
                    throw new SkillException($"front matter line {i + 1}: a value of more than one line (write name and description on one line each)");
                }
                continue;
            }
            var match = FrontMatterLine().Match(line);
            if (!match.Success)
            {
                throw new SkillException($"front matter line {i + 1} is not \"key: value\"");
            }
            key = match.Groups[1].Value;
            if (!values.TryAdd(key, Unquote(match.Groups[2].Value.Trim())))
            {
                throw new SkillException($"the front matter names \"{key}\" twice");
            }
        }
        if (!values.TryGetValue("name", out var name) || !IsValidName(name))
        {
            throw new SkillException(name is null ? "the front matter has no name" : $"\"{name}\" is not a skill name");
        }
        if (!values.TryGetValue("description", out var description))
        {
            throw new SkillException("the front matter has no description");
        }
        var body = string.Join('\n', lines[(end + 1)..]).Trim('\n');
        if (StrictUtf8.GetByteCount(body) > MaxBodyBytes)
        {
            throw new SkillException($"the body is over {MaxBodyBytes} bytes");
        }
        return (name, CheckDescription(description), body);
    }

    private static Skill Read(string folder, bool builtIn)
    {
        var name = Path.GetFileName(folder);
        if (!IsValidName(name))
        {
            throw new SkillException($"\"{name}\" is not a skill name");
        }
        if (new DirectoryInfo(folder).LinkTarget is not null)
        {
            throw new SkillException("the folder is a symbolic link");
        }
        var file = new FileInfo(Path.Combine(folder, FileName));
        if (file.LinkTarget is not null)
        {
            throw new SkillException($"{FileName} is a symbolic link");
        }
        if (!file.Exists)
        {
            throw new SkillException($"the folder has no {FileName}");
        }
        if (file.Length > MaxBodyBytes + MaxFrontMatterBytes)
        {
            throw new SkillException($"{FileName} is {file.Length} bytes; at most {MaxBodyBytes + MaxFrontMatterBytes}");
        }
        string text;
        try
        {
            text = File.ReadAllText(file.FullName, StrictUtf8);
        }
        catch (DecoderFallbackException)
        {
            throw new SkillException($"{FileName} is not UTF-8 text");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SkillException($"{FileName} cannot be read: {e.Message}");
        }
        var (declared, description, body) = Parse(text);
        return declared == name
            ? new Skill(name, description, builtIn, body)
            : throw new SkillException($"the front matter names it \"{declared}\", not \"{name}\" like the folder");
    }

    private static string CheckDescription(string description)
    {
        if (description.Length == 0)
        {
            throw new SkillException("the description is empty");
        }
        if (description.Length > MaxDescriptionLength)
        {
            throw new SkillException($"the description is {description.Length} characters; at most {MaxDescriptionLength}");
        }
        if (description.Any(char.IsControl))
        {
            throw new SkillException("the description is one line without control characters");
        }
        return description;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0] ? value[1..^1] : value;

    /// <summary>The folders directly in <paramref name="dir"/>, in name order; none when it is missing.</summary>
    private static IEnumerable<string> Folders(string dir) =>
        Directory.Exists(dir)
            ? new DirectoryInfo(dir).EnumerateDirectories().Where(d => !d.Name.StartsWith('.')).Select(d => d.FullName).Order(StringComparer.Ordinal)
            : [];

    private static bool Exists(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static void CreateFolder(string path)
    {
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null || File.Exists(path))
        {
            throw new SkillException($"{path} is not a plain folder; it is left as it is");
        }
        if (!info.Exists)
        {
            Directory.CreateDirectory(path, FolderMode);
            // The umask may have taken bits away: set exactly what was asked for.
            File.SetUnixFileMode(path, FolderMode);
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}\\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9_-]*):(.*)\\z")]
    private static partial Regex FrontMatterLine();

    [LoggerMessage(EventId = 820, Level = LogLevel.Information, Message = "skill {Name} saved")]
    private static partial void LogSaved(ILogger logger, string name);
}
