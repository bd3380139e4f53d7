using BoxBot.Agent.Tools;

namespace BoxBot.Agent.Memory;

/// <summary>
/// The model's one tool for changing memory: keep a new fact, replace a fact's text (id + text), or forget one
/// (id + forget). One tool rather than three keeps the tool list short; the combinations are checked here, and every
/// privilege by the <see cref="MemoryStore"/>.
/// </summary>
public sealed class RememberTool(MemoryStore store) : AgentTool
{
    public override string Name => "remember";

    public override string Description =>
        "Keep a short fact in long-term memory, change one, or forget one. " +
        "New fact: give scope and text. scope \"person\" is about the person you are talking to (private to them), " +
        "\"household\" is about the home and the people in it (shared with everyone), \"method\" is how to get something done " +
        "(an approach that worked; shared). One fact per call, in a sentence that makes sense on its own later. " +
        "For household and method facts, subject is an optional topic (\"wifi\", \"heating\"); " +
        "for person facts only admins may give a subject (whose fact: whatsapp:<digits> or console:<user>). " +
        "Change a fact: give its id and the new text. Forget a fact: give its id and forget: true. " +
        "Ids come from search_memory; search first rather than keeping the same fact twice.";

    public override string InputSchema => """
        {
          "type": "object",
          "properties": {
            "scope": { "type": "string", "enum": ["person", "household", "method"], "description": "What the new fact is about." },
            "text": { "type": "string", "maxLength": 2000, "description": "The fact, or the new text of the fact with this id." },
            "subject": { "type": "string", "maxLength": 64, "description": "Household and method facts: a topic. Person facts: whose (admins only; default: the speaker)." },
            "id": { "type": "integer", "minimum": 1, "description": "An existing fact's id: with text to change it, with forget to forget it." },
            "forget": { "type": "boolean", "description": "true to forget the fact with this id." }
          },
          "additionalProperties": false
        }
        """;

    public override Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        input.Only("scope", "text", "subject", "id", "forget");
        var id = input.OptionalInteger("id", 1, long.MaxValue);
        var forget = input.OptionalBool("forget") ?? false;
        var scope = input.OptionalChoice("scope", [.. MemoryScope.All]);
        var subject = input.OptionalString("subject", MemoryStore.MaxTopicLength);
        var speaker = context.Speaker;
        try
        {
            if (forget)
            {
                if (id is null)
                {
                    throw new ToolInputException("\"forget\" needs the \"id\" of the fact to forget");
                }
                if (scope is not null || subject is not null || input.OptionalString("text", MemoryStore.MaxTextLength) is not null)
                {
                    throw new ToolInputException("to forget a fact give only \"id\" and \"forget\"");
                }
                store.Forget(speaker, id.Value);
                return Task.FromResult(new ToolResult($"Forgot #{id}."));
            }
            var text = input.RequiredString("text", MemoryStore.MaxTextLength);
            if (id is not null)
            {
                if (scope is not null || subject is not null)
                {
                    throw new ToolInputException("a fact keeps its scope and subject: give only \"id\" and \"text\" (or forget it and keep a new one)");
                }
                store.Update(speaker, id.Value, text);
                return Task.FromResult(new ToolResult($"Changed #{id}."));
            }
            if (scope is null)
            {
                throw new ToolInputException("\"scope\" is required for a new fact (person, household or method)");
            }
            var newId = store.Remember(speaker, scope, text, subject);
            return Task.FromResult(new ToolResult($"Remembered as #{newId}."));
        }
        catch (MemoryException e)
        {
            return Task.FromResult(ToolResult.Error(e.Message));
        }
    }
}
