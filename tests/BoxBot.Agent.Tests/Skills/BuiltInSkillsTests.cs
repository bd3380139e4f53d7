using BoxBot.Agent.Skills;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests.Skills;

/// <summary>The skills the agent ships (lib/BoxBot.Agent/skills, copied next to the executables) parse cleanly.</summary>
public class BuiltInSkillsTests
{
    [Test]
    public void Every_shipped_skill_is_listed_without_problems_and_loads()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "boxbot.sln")))
        {
            root = root.Parent;
        }
        Assert.That(root, Is.Not.Null, "the repository root (boxbot.sln) above " + AppContext.BaseDirectory);
        using var authored = new TempFolder();
        var catalog = new SkillCatalog(Path.Combine(root!.FullName, "lib", "BoxBot.Agent", "skills"), authored.Path, NullLogger.Instance);

        var listing = catalog.List();

        Assert.That(listing.Problems, Is.Empty);
        Assert.That(listing.Skills.Select(s => s.Name), Does.Contain("sandbox-scripts"));
        Assert.That(listing.Skills.All(s => s.BuiltIn), Is.True);
        Assert.That(catalog.Load("sandbox-scripts").Body, Does.Contain("execute_script"));
    }
}
