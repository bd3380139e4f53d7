using BoxBot.Agent.Tools;

namespace BoxBot.Agent.Skills;

/// <summary>
/// Gives the model a skill's text when a task calls for it. The system prompt lists every skill by name and
/// description; the body is loaded only on demand, marked off so the model can tell the skill from the rest of the turn,
/// and with its origin: built-in skills come from boxbot's makers, the others were written by the agent itself earlier.
/// </summary>
public sealed class LoadSkillTool(SkillCatalog catalog) : AgentTool
{
    public override string Name => "load_skill";

    public override string Description =>
        "Load a skill's instructions by name (the skills are listed in the system prompt with what each is for). " +
        "Load one when a request matches its description, then follow it.";

    public override string InputSchema => """
        {
          "type": "object",
          "properties": {
            "name": { "type": "string", "pattern": "^[a-z][a-z0-9-]{1,39}$", "description": "The skill's name, as listed." }
          },
          "required": ["name"],
          "additionalProperties": false
        }
        """;

    public override Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Only("name");
        var name = input.RequiredString("name", 64);
        if (!SkillCatalog.IsValidName(name))
        {
            throw new ToolInputException($"\"{name}\" is not a skill name: a lowercase letter, then 1 to 39 lowercase letters, digits or hyphens");
        }
        try
        {
            var skill = catalog.Load(name);
            var origin = skill.BuiltIn ? "built-in" : "written by you in an earlier conversation";
            return Task.FromResult(new ToolResult(
                $"Skill \"{skill.Name}\" ({origin}): {skill.Description}\n" +
                "----- skill text -----\n" +
                skill.Body + "\n" +
                $"----- end of skill \"{skill.Name}\" -----"));
        }
        catch (SkillException e)
        {
            return Task.FromResult(ToolResult.Error(e.Message));
        }
    }
}
