using System.CommandLine;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli;

internal static class WhatsAppCommand
{
    // Above the agent's own limit on whatsapp.send (5 minutes: every part with its retries), so the agent's answer wins.
    private static readonly TimeSpan SendTimeout = TimeSpan.FromMinutes(6);

    public static Command Create() => new("whatsapp", "The WhatsApp channel: simulate an inbound message, send one (admins).")
    {
        WhatsAppSimulateCommand.Create(),
        Send(),
    };

    private static Command Send()
    {
        var to = new Option<string>("--to")
        {
            Description = "The recipient: country code and number, such as 4915112345678 (a leading + and spaces are ignored). " +
                "Only registered users (boxbot users list) can be sent to; anyone else is refused.",
            HelpName = "NUMBER",
            Required = true,
        };
        var text = new Argument<string>("TEXT") { Description = "The message, as one argument (quote it); - reads it from stdin." };
        var json = CommonOptions.Json();
        var send = new Command("send",
            "Send a WhatsApp text message from the box, through the agent (admins). Texts over 4096 characters go as several " +
            "messages, split at a line break or space; at most 65536 characters.\n" +
            "Without WhatsApp credentials (the credential whatsapp-access-token, or [whatsapp] phone_number_id) nothing is sent: the " +
            "agent appends the message to its development outbox (whatsapp-outbox.jsonl in its state folder) and this says NOT SENT.\n" +
            "WhatsApp lets a business send free text only within 24 hours of the person's last message to it; after that the " +
            "send is refused until they write again.\n" +
            "--json prints the result: outcome (sent | outbox), message_ids, parts, outbox.\n" +
            "Exit code 0 when sent or written to the outbox; 1 when refused (not an allowed recipient, WhatsApp said no) or failed.")
        { to, text, json };
        send.SetAction(async (parse, cancellationToken) =>
        {
            var message = parse.GetValue(text)!;
            if (CommonOptions.PhoneNumber(parse.GetValue(to)!, "--to").Failure is { } malformed)
            {
                return Failures.Report(malformed);
            }
            if (message == "-")
            {
                message = await Console.In.ReadToEndAsync(cancellationToken);
                message = message.EndsWith("\r\n", StringComparison.Ordinal) ? message[..^2] : message.EndsWith('\n') ? message[..^1] : message;
            }
            var recipient = parse.GetValue(to)!;
            var (result, code) = await AgentCall.CallAsync(WhatsAppMethods.Send, new WhatsAppSendRequest { To = recipient, Text = message },
                WhatsAppJsonContext.Default.WhatsAppSendRequest, WhatsAppJsonContext.Default.WhatsAppSendResult, SendTimeout, cancellationToken);
            if (result is not null)
            {
                Console.WriteLine(parse.GetValue(json) ? CliJson.Format(result, WhatsAppJsonContext.Default.WhatsAppSendResult) : Describe(recipient, result));
            }
            return code;
        });
        return send;
    }

    private static string Describe(string recipient, WhatsAppSendResult result) => result.Outcome switch
    {
        "sent" => $"sent to {recipient}: {result.Parts} part{(result.Parts == 1 ? "" : "s")} ({string.Join(", ", result.MessageIds)})",
        "outbox" => $"NOT SENT: no WhatsApp credentials; written to the outbox {result.Outbox}",
        _ => $"the agent answered outcome \"{result.Outcome}\" for {recipient}",
    };
}
