using BoxBot.Agent.Conversations;
using BoxBot.Agent.Identity;

namespace BoxBot.Agent.Tools;

/// <summary>
/// <c>create_code</c>: a registration code for a new user, for admins only (checked here against the authenticated
/// speaker). The code goes straight to the asking admin through the message path; the model never sees it, so text that
/// talks the model into calling this cannot leak a code to anyone else.
/// </summary>
public sealed class CreateCodeTool(UserRegistry registry, MessageRoute route) : AgentTool
{
    public override string Name => "create_code";

    public override string Description =>
        "Admins only: create a one-time registration code for a new person. The code is sent directly to the admin you are " +
        "talking with (not to you); they pass it on in person, and the new person sends it to the box within 10 minutes.";

    public override string InputSchema => """{"type":"object","properties":{},"additionalProperties":false}""";

    public override async Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        input.Only();
        var speaker = context.Speaker;
        if (!speaker.IsAdmin || speaker.Channel == Speaker.Task)
        {
            return ToolResult.Error($"refused: only an admin can ask for registration codes, and {speaker.DisplayName} is not one");
        }
        var issuer = speaker.Channel == Speaker.WhatsApp ? UserRegistry.WhatsAppIssuer + speaker.Id : UserRegistry.ConsoleIssuer + speaker.Id;
        try
        {
            var code = registry.IssueCode(issuer);
            var until = DateTimeOffset.FromUnixTimeSeconds(code.ExpiresAt).ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
            await route.SendAsync(speaker, null,
                $"Registration code: {code.Code}\nValid until {until}, once. Give it to the new person in person or by phone; they send these six digits, alone, to this number.",
                cancellationToken);
            return new ToolResult($"a code was created and sent directly to {speaker.DisplayName} (valid until {until}); you do not see it");
        }
        catch (IdentityException e)
        {
            return ToolResult.Error("refused: " + e.Message);
        }
    }
}
