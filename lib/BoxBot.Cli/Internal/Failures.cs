using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BoxBot.Contracts;

namespace BoxBot.Cli.Internal;

/// <summary>
/// The one place that turns a failure into what the person at the keyboard sees and the exit code the shell gets.
/// Every command reports through here, so the same mistake gets the same code and the same wording whichever
/// command met it: a malformed argument is a usage error (2) whether the CLI or the daemon found it, a refusal says
/// "refused:", and a daemon's JSON-RPC error code decides the class, not the command that called it.
/// </summary>
internal static class Failures
{
    /// <summary>
    /// Set by <see cref="CliApp"/> when the command was given <c>--json</c>: a failure then also prints one JSON
    /// document on stdout, <c>{"error": {"kind", "message", "exit_code"}}</c>, so a script always gets a document.
    /// </summary>
    public static bool Json { get; set; }

    /// <summary>The classes a failure falls in: the <c>kind</c> in JSON, and the exit code each maps to.</summary>
    public static class Kinds
    {
        public const string Usage = "usage";
        public const string Failed = "failed";
        public const string Refused = "refused";
        public const string NotFound = "not_found";
        public const string Unavailable = "unavailable";
        public const string Upstream = "upstream";
        public const string Busy = "busy";
        public const string Timeout = "timeout";
        public const string Internal = "internal";
    }

    /// <summary>A malformed or missing argument (exit code 2). The message names the option or argument and what it takes.</summary>
    public static int Usage(string message) => Report(new Failure(ExitCodes.Usage, Kinds.Usage, message));

    /// <summary>Something could not be done (exit code 1). The message says what, where, and what to do.</summary>
    public static int Fail(string message) => Report(new Failure(ExitCodes.Failure, Kinds.Failed, message));

    /// <summary>The box's rules refuse it (exit code 1); printed as "refused: ...".</summary>
    public static int Refused(string message) => Report(Classify(RpcErrorCodes.Refused, message, ""));

    /// <summary>A daemon answered a call with a JSON-RPC error: its code decides the class and exit code.</summary>
    public static int FromRpc(int code, string message, string daemon) => Report(Classify(code, message, daemon));

    /// <summary>
    /// Prints <paramref name="failure"/> (stderr, and the JSON document on stdout under --json unless the command printed
    /// its own document, <paramref name="printJson"/> false); returns its exit code.
    /// </summary>
    public static int Report(Failure failure, bool printJson = true)
    {
        ArgumentNullException.ThrowIfNull(failure);
        Console.Error.WriteLine("boxbot: " + failure.Text);
        if (Json && printJson)
        {
            Console.Out.WriteLine(JsonDocumentFor(failure));
        }
        return failure.ExitCode;
    }

    /// <summary>
    /// Every JSON-RPC error code a daemon may answer, to the class, exit code and wording the person sees. The daemon's
    /// message is the substance (it names the field, the limit, the thing); this adds only what the code alone says.
    /// </summary>
    public static Failure Classify(int code, string message, string daemon)
    {
        var who = daemon.Length == 0 ? "the daemon" : "the " + daemon;
        return code switch
        {
            RpcErrorCodes.InvalidParams => new(ExitCodes.Usage, Kinds.Usage, message),
            RpcErrorCodes.Unauthorized => new(ExitCodes.Failure, Kinds.Refused,
                $"refused: {message} (this needs root or a member of the admin group, [box] admin_group, boxbot-admin by default: `sudo adduser $USER boxbot-admin`, then log in again)"),
            RpcErrorCodes.Refused => new(ExitCodes.Failure, Kinds.Refused, "refused: " + message),
            RpcErrorCodes.NotFound => new(ExitCodes.Failure, Kinds.NotFound, message),
            RpcErrorCodes.Unavailable => new(ExitCodes.Failure, Kinds.Unavailable, message),
            RpcErrorCodes.Upstream => new(ExitCodes.Failure, Kinds.Upstream, message),
            RpcErrorCodes.Busy => new(ExitCodes.Failure, Kinds.Busy,
                "busy: " + message + (message.Contains("try again", StringComparison.OrdinalIgnoreCase) ? "" : "; try again in a moment")),
            RpcErrorCodes.Timeout => new(ExitCodes.Failure, Kinds.Timeout, message),
            RpcErrorCodes.ShuttingDown => new(ExitCodes.Failure, Kinds.Unavailable, $"{who} is shutting down: {message}; try again once it is back"),
            RpcErrorCodes.Cancelled => new(ExitCodes.Failure, Kinds.Failed, "cancelled: " + message),
            RpcErrorCodes.MethodNotFound => new(ExitCodes.Failure, Kinds.Internal,
                $"{who} does not know this request ({message}): it runs another boxbot version than this CLI ({BuildInfo.Version}); restart it, or use its own version's boxbot"),
            _ => new(ExitCodes.Failure, Kinds.Internal,
                $"{who} failed ({RpcErrorCodes.Describe(code)}): {message}; its log says more (journalctl -u boxbot-{(daemon.Length == 0 ? "agent" : daemon)}, or dev up's output)"),
        };
    }

    internal static string JsonDocumentFor(Failure failure)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping: the message is read by people too, and this JSON is never embedded in HTML.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("kind", failure.Kind);
            w.WriteString("message", failure.Text);
            w.WriteNumber("exit_code", failure.ExitCode);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>One failure as reported: the exit code, its class (<see cref="Failures.Kinds"/>) and the sentence for the person.</summary>
internal sealed record Failure(int ExitCode, string Kind, string Text);
