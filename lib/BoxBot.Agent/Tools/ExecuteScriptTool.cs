using System.Text;
using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Agent.Tools;

/// <summary>
/// <c>execute_script</c>: runs Python in the sandbox (through the sandbox daemon, with the job limits), with secrets
/// named from the store. Secret values never pass through the model: the runner fills them in, and any value that shows
/// up in the output is replaced by its name before the model sees it.
/// </summary>
/// <param name="run">Runs a job; returns the result and the secret values it was given (for redaction).</param>
public sealed class ExecuteScriptTool(Func<SandboxRunRequest, string, CancellationToken, Task<(SandboxRunResult Result, IReadOnlyDictionary<string, string> Secrets)>> run)
    : AgentTool
{
    private const int MaxOutputChars = 16 * 1024;
    private const int InlineAttachmentBytes = 4 * 1024;

    public override string Name => "execute_script";

    public override string Description =>
        "Run a Python 3 script in the box's sandbox (no access to the box's files; network only with \"network\": \"internet\"). " +
        "Secrets named in \"secrets\" are available as environment variables BOXBOT_SECRET_<NAME>; their values are never shown to you. " +
        "The `bb` module offers bb.output.attach(name, bytes) for files. Returns the status, exit code, stdout, stderr and attachments.";

    public override string InputSchema => """
        {"type":"object","properties":{
          "script":{"type":"string","description":"The Python source."},
          "secrets":{"type":"array","items":{"type":"string"},"maxItems":16,"description":"Names of stored secrets the script needs."},
          "timeout_s":{"type":"integer","minimum":1,"maximum":600},
          "memory_mib":{"type":"integer","minimum":32,"maximum":4096},
          "network":{"type":"string","enum":["none","internet"]}},
         "required":["script"],"additionalProperties":false}
        """;

    public override async Task<ToolResult> RunAsync(ToolInput input, ToolContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        input.Only("script", "secrets", "timeout_s", "memory_mib", "network");
        var request = new SandboxRunRequest
        {
            Script = input.RequiredString("script", AgentService.MaxScriptBytes),
            Secrets = input.StringList("secrets", 16, 64),
            TimeoutSeconds = (int?)input.OptionalInteger("timeout_s", 1, 600),
            MemoryMiB = (int?)input.OptionalInteger("memory_mib", 32, 4096),
            Network = input.OptionalChoice("network", "none", "internet"),
        };
        var (result, secrets) = await run(request, context.Speaker.ConversationKey, cancellationToken);
        var text = new StringBuilder();
        text.Append("status: ").Append(result.Status);
        if (result.ExitCode is { } exit)
        {
            text.Append(", exit code ").Append(exit);
        }
        if (result.KilledBy is { } killed)
        {
            text.Append(", killed by ").Append(killed);
        }
        if (result.Error is { } error)
        {
            text.Append("\nerror: ").Append(Redact(error, secrets));
        }
        if (result.Explanation is { } explanation)
        {
            text.Append("\nwhy: ").Append(explanation);
        }
        text.Append("\nstdout:\n").Append(Clip(Redact(result.Stdout, secrets), result.StdoutTruncated));
        text.Append("\nstderr:\n").Append(Clip(Redact(result.Stderr, secrets), result.StderrTruncated));
        foreach (var attachment in result.Attachments)
        {
            text.Append("\nattachment ").Append(attachment.Name).Append(" (").Append(attachment.Size).Append(" bytes)");
            if (attachment.Content.Length <= InlineAttachmentBytes && IsText(attachment.Content))
            {
                text.Append(":\n").Append(Redact(Encoding.UTF8.GetString(attachment.Content), secrets));
            }
        }
        return new ToolResult(text.ToString(), IsError: result.Status != "ok");
    }

    /// <summary>Secret names are recorded; the script is recorded too (it holds no values: they come from the store).</summary>
    public override string Redact(JsonElement input) => input.GetRawText();

    internal static string Redact(string text, IReadOnlyDictionary<string, string> secrets)
    {
        // Longest first, so a value containing another is replaced whole.
        foreach (var (name, value) in secrets.OrderByDescending(s => s.Value.Length))
        {
            if (value.Length >= 4)
            {
                text = text.Replace(value, $"[secret {name}]", StringComparison.Ordinal);
            }
        }
        return text;
    }

    private static string Clip(string text, bool truncated) =>
        text.Length > MaxOutputChars ? text[..MaxOutputChars] + "\n[cut]" : truncated ? text + "\n[cut by the sandbox]" : text;

    private static bool IsText(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetString(bytes);
            return !bytes.Contains((byte)0);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
