using System.Collections.Concurrent;
using BoxBot.Agent.Tools;
using BoxBot.Contracts;

namespace BoxBot.Agent.Conversations;

/// <summary>
/// Where the <c>message</c> tool's texts (and the engine's own short notices) go: to the speaker on their channel, or to
/// another registered user on WhatsApp. WhatsApp goes through the agent's one outbound sender, whose recipient check is
/// the user registry, so nothing here can reach an unregistered or blocked number.
/// </summary>
/// <param name="sendWhatsApp">Sends (to digits, text, caller for the log).</param>
public sealed class MessageRoute(Func<string, string, string, CancellationToken, Task<WhatsAppSendResult>> sendWhatsApp)
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _console = new(StringComparer.Ordinal);

    /// <summary>From now on, messages to the console conversation <paramref name="key"/> are collected in the returned queue (one per chat call).</summary>
    public ConcurrentQueue<string> OpenConsole(string key)
    {
        var queue = new ConcurrentQueue<string>();
        _console[key] = queue;
        return queue;
    }

    /// <summary>Stops collecting into <paramref name="queue"/> (unless a newer call has taken over the key).</summary>
    public void CloseConsole(string key, ConcurrentQueue<string> queue) =>
        _console.TryRemove(new KeyValuePair<string, ConcurrentQueue<string>>(key, queue));

    /// <summary>Sends <paramref name="text"/> to the speaker (<paramref name="toNumber"/> null) or to a registered WhatsApp number. Returns an account for the model.</summary>
    /// <exception cref="MessageRefusedException">The recipient may not be sent to, or nobody is there to receive it.</exception>
    public async Task<string> SendAsync(Speaker speaker, string? toNumber, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        if (toNumber is null)
        {
            if (speaker.Channel == Speaker.Console || speaker.Number is null)
            {
                var key = speaker.Channel == Speaker.Console ? speaker.ConversationKey : $"{Speaker.Console}:{speaker.Id}";
                if (!_console.TryGetValue(key, out var queue))
                {
                    throw new MessageRefusedException($"{key} is not connected (boxbot chat is not running), so the message could not be shown");
                }
                queue.Enqueue(text);
                return "shown on the console";
            }
            toNumber = speaker.Number;
        }
        var result = await sendWhatsApp(toNumber, text, speaker.ConversationKey, cancellationToken);
        return result.Outcome == "sent"
            ? $"sent to {toNumber} on WhatsApp"
            : $"not sent (the box has no WhatsApp credentials): written to the development outbox for {toNumber}";
    }
}

/// <summary>The box will not deliver this message; the text says why (for the model and the action log).</summary>
public sealed class MessageRefusedException(string message) : Exception(message);
