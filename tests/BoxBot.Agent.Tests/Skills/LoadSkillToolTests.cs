using BoxBot.Agent.Skills;
using BoxBot.Agent.Tools;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests.Skills;

/// <summary>load_skill as the model calls it.</summary>
public class LoadSkillToolTests
{
    private static readonly Speaker Alice = Speakers.Person("4915100000001");

    private TempFolder _dir = null!;
    private SkillCatalog _catalog = null!;
    private LoadSkillTool _tool = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempFolder();
        var builtIn = Directory.CreateDirectory(_dir.File("builtin/weather")).FullName;
        File.WriteAllText(Path.Combine(builtIn, "SKILL.md"), "---\nname: weather\ndescription: Forecasts.\n---\nUse the forecast API.\n");
        _catalog = new SkillCatalog(_dir.File("builtin"), _dir.File("authored"), NullLogger.Instance);
        _tool = new LoadSkillTool(_catalog);
    }

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void The_schema_is_a_JSON_object_that_refuses_other_properties()
    {
        ToolCalls.AssertSchema(_tool, "name");
        Assert.That(_tool.Name, Is.EqualTo("load_skill"));
    }

    [Test]
    public void A_skills_text_comes_marked_off_with_where_it_came_from()
    {
        _catalog.Save("plant-care", "Watering plans.", "Water weekly.");

        Assert.That(ToolCalls.Run(_tool, """{"name": "weather"}""", Alice).Content, Is.EqualTo(
            "Skill \"weather\" (built-in): Forecasts.\n----- skill text -----\nUse the forecast API.\n----- end of skill \"weather\" -----"));
        Assert.That(ToolCalls.Run(_tool, """{"name": "plant-care"}""", Alice).Content, Does.StartWith(
            "Skill \"plant-care\" (written by you in an earlier conversation): Watering plans.\n"));
    }

    [Test]
    public void An_unknown_skill_is_an_error_for_the_model() =>
        Assert.That(ToolCalls.Run(_tool, """{"name": "cooking"}""", Alice), Is.EqualTo(ToolResult.Error("there is no skill \"cooking\"")));

    [TestCase("""{}""", "\"name\" is required (a non-empty string)")]
    [TestCase("""{"name": "weather", "path": "/etc/passwd"}""", "unknown property \"path\" (known: name)")]
    [TestCase("""{"name": 5}""", "\"name\" must be a string")]
    [TestCase("""{"name": "../authored/x"}""", "\"../authored/x\" is not a skill name: a lowercase letter, then 1 to 39 lowercase letters, digits or hyphens")]
    [TestCase("""{"name": "Weather"}""", "\"Weather\" is not a skill name: a lowercase letter, then 1 to 39 lowercase letters, digits or hyphens")]
    public void Bad_input_is_refused_with_what_is_wrong(string json, string message) =>
        Assert.That(ToolCalls.Refusal(_tool, json, Alice), Is.EqualTo(message));
}
