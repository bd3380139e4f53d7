using BoxBot.Agent.Conversations;
using BoxBot.WhatsApp;
using BoxBot.WhatsApp.Outbound;

namespace BoxBot.Agent.Tools;

/// <summary>
/// <c>message</c>: the only way anything reaches a person. To the current person by default, or to another registered
/// user by number; the send path refuses anyone else, whatever the model was told.
/// </summary>
public sealed class MessageTool(MessageRoute route) : AgentTool
{
    public const int MaxChars = 8192;

    public override string Name => "message";

    public override string Description =>
        "Send a text message to the person you are talking with (leave out \"to\"), or to another registered user of the box " +
        "(\"to\": their phone number with country code). This is the only way to reach anyone; your plain text is not shown to people. " +
        "Messages to numbers that are not registered users are refused.";

    public override string InputSchema => """
        {"type":"object","properties":{
          "text":{"type":"string","description":"The message.","maxLength":8192},
          "to":{"type":"string","description":"A registered user's phone number, digits with country code; leave out to answer the current person."}},
         "required":["text"],"additionalProperties":false}
        """;

    public override async Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        input.Only("text", "to");
        var text = input.RequiredString("text", MaxChars);
        string? to = null;
        if (input.OptionalString("to", 32) is { } number)
        {
            to = PhoneNumbers.NormalizeInternational(number) ?? throw new ToolInputException($"\"to\" is not a phone number with country code: \"{number}\"");
        }
        try
        {
            return new ToolResult(await route.SendAsync(context.Speaker, to, text, cancellationToken));
        }
        catch (Exception e) when (e is MessageRefusedException or RecipientRefusedException or InvalidOutboundMessageException or GraphApiException)
        {
            return ToolResult.Error("not sent: " + e.Message);
        }
    }
}
