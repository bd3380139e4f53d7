using System.Buffers;
using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;
using BoxBot.WhatsApp;
using BoxBot.WhatsApp.Inbound;

namespace BoxBot.Cli;

internal static class WhatsAppSimulateCommand
{
    private const string SecretName = "whatsapp-app-secret";

    // Meta's ids are 15-16 digits; all zeros cannot be a real one, so a simulated delivery never passes for Meta's.
    private const string UnsetPhoneNumberId = "000000000000000";

    private static readonly TimeSpan PostTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var from = new Option<string>("--from")
        {
            Description = "The sender, in international form: country code first, with or without '+', spaces or dashes " +
                          "(\"+49 151 2345678\"). 7 to 15 digits. The agent sees the message as coming from this number.",
            HelpName = "NUMBER",
            Required = true,
        };
        var name = new Option<string?>("--name")
        {
            Description = "The sender's WhatsApp profile name (at most 256 characters). Without it the message has no name, like a sender who set none.",
            HelpName = "NAME",
        };
        var json = CommonOptions.Json();
        var text = new Argument<string[]>("TEXT")
        {
            Description = "The message text; several words are joined with single spaces (quote it to keep other spacing); - reads it from stdin.",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("simulate",
            "Pretend a WhatsApp user sent TEXT to this box, without Meta: builds a delivery shaped exactly like the Cloud API's " +
            "(one text message from NUMBER), signs it with this box's own app secret (credential whatsapp-app-secret; from " +
            "$BOXBOT_HOME/credentials in development, /etc/boxbot/credentials installed, which only root may read: use sudo) " +
            "and POSTs it to the local webhook at the address the webhook reports in its status. The webhook checks the " +
            "signature and handles it like a real delivery, so the agent receives it as a message from NUMBER; its replies go " +
            "wherever outbound messages go. The message id starts with wamid.SIM, so it is recognisable in logs and storage.\n" +
            "Prints the message id and the webhook's HTTP status (--json: {\"message_id\", \"status\"}). " +
            "Exit code 0 when the webhook answered 200, 1 when it is down or answered otherwise, 2 for a malformed number or text.")
        { from, name, json, text };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(from)!, parse.GetValue(name),
            string.Join(' ', parse.GetValue(text) ?? []), parse.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string fromText, string? name, string text, bool json, CancellationToken cancellationToken)
    {
        if (text == "-")
        {
            text = await Console.In.ReadToEndAsync(cancellationToken);
            text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        }
        var (from, invalid) = CommonOptions.PhoneNumber(fromText, "--from");
        if (invalid is not null)
        {
            return Failures.Report(invalid);
        }
        if (string.IsNullOrWhiteSpace(text) || text.Length > WebhookPayload.MaxTextLength)
        {
            return Usage($"TEXT must be 1 to {WebhookPayload.MaxTextLength} characters (the most the webhook reads of one message)");
        }
        if (name is { Length: > WebhookPayload.MaxNameLength })
        {
            return Usage($"--name must be at most {WebhookPayload.MaxNameLength} characters");
        }

        var paths = BoxPaths.FromEnvironment();
        var config = CommonOptions.LoadForClient(paths);
        var webhook = await DaemonProbe.ProbeAsync(Daemons.Webhook, paths, config.Ipc.RequestTimeout, cancellationToken);
        if (!webhook.Up)
        {
            return Fail($"the webhook is not running ({webhook.Error}); " + (DevHints.UnsetHome(paths)
                ?? (paths.IsDevelopment ? "start the development box with `make run` or `boxbot dev up`"
                    : "installed, it starts once WhatsApp is configured (docs/whatsapp.md): `sudo systemctl start boxbot-webhook.socket`")));
        }
        var listen = webhook.Details?.GetValueOrDefault("listen");
        if (WebhookUri(listen) is not { } uri)
        {
            return Fail($"the webhook's status does not say where it listens (details.listen = '{listen}'), so there is nowhere to post to");
        }
        if (ReadSecret(paths) is not { } secret)
        {
            return ExitCodes.Failure;
        }

        var messageId = DeliveryBuilder.NewMessageId();
        var phoneNumberId = config.WhatsApp.PhoneNumberId is { Length: > 0 } configured ? configured : UnsetPhoneNumberId;
        var body = DeliveryBuilder.Text(phoneNumberId, from!, string.IsNullOrEmpty(name) ? null : name, text, messageId,
            DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var status = await PostAsync(uri, body, WebhookSignature.Sign(body, secret), cancellationToken);
        if (status is not { } code)
        {
            return ExitCodes.Failure;
        }

        if (json)
        {
            Console.WriteLine(Json(messageId, (int)code));
        }
        else if (code == HttpStatusCode.OK)
        {
            Console.WriteLine($"delivered to the webhook: message id {messageId} (HTTP 200)");
        }
        if (code == HttpStatusCode.OK)
        {
            return ExitCodes.Ok;
        }
        // Under --json the document above already says which status came back: the failure goes to stderr only.
        return Failures.Report(new Failure(ExitCodes.Failure, Failures.Kinds.Failed,
            $"the webhook answered HTTP {(int)code} ({code}) to message id {messageId}, not 200{Hint(code)}"), printJson: !json);
    }

    /// <summary>
    /// The secret exactly as the webhook will use it: the UTF-8 bytes of the credential string. An installed box has
    /// no $CREDENTIALS_DIRECTORY in a shell (systemd sets it for units only), so the CLI reads the folder systemd's
    /// LoadCredential= copies from.
    /// </summary>
    private static byte[]? ReadSecret(BoxPaths paths)
    {
        var store = CredentialStore.FromEnvironment(paths);
        if (store.Directory is null && !paths.IsDevelopment)
        {
            store = new CredentialStore(paths.CredentialsDir, store.EnvFile);
        }

        try
        {
            return Encoding.UTF8.GetBytes(store.Get(SecretName));
        }
        catch (CredentialException e)
        {
            var sudo = !paths.IsDevelopment && LinuxProcess.EffectiveUid != 0
                ? $"; installed, {Path.Combine(paths.CredentialsDir, SecretName)} is readable by root only: run this command with sudo"
                : "";
            Fail($"cannot read the app secret to sign with: {e.Message}{sudo}");
            return null;
        }
    }

    /// <summary>http://ADDRESS:PORT/webhook for the webhook's "listen" detail ("127.0.0.1:8443", "[::1]:8443"); a wildcard bind is reached on loopback.</summary>
    internal static Uri? WebhookUri(string? listen)
    {
        if (!IPEndPoint.TryParse(listen ?? "", out var endpoint) || endpoint.Port == 0)
        {
            return null;
        }

        var address = endpoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : endpoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : endpoint.Address;
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return Uri.TryCreate($"http://{host}:{endpoint.Port}/webhook", UriKind.Absolute, out var uri) ? uri : null;
    }

    private static async Task<HttpStatusCode?> PostAsync(Uri uri, byte[] body, string signature, CancellationToken cancellationToken)
    {
        // No proxy: $http_proxy must not carry a signed delivery off the box, and no redirect may move it elsewhere.
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = PostTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode;
        }
        catch (HttpRequestException e)
        {
            Fail($"could not post to {uri}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Fail($"the webhook at {uri} did not answer within {PostTimeout.TotalSeconds:0} s");
        }
        return null;
    }

    private static string Hint(HttpStatusCode code) => code switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
            ": it refused the signature, so it reads another app secret than this shell did (another BOXBOT_HOME, or the credential changed after the webhook started)",
        HttpStatusCode.NotFound => ": this webhook build has no /webhook endpoint",
        HttpStatusCode.RequestEntityTooLarge => ": the delivery is larger than [webhook] max_body_bytes",
        HttpStatusCode.BadRequest => ": it could not read the delivery",
        _ => "; see the webhook's log",
    };

    private static string Json(string messageId, int status)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("message_id", messageId);
            w.WriteNumber("status", status);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static int Usage(string message) => Failures.Usage(message);

    private static int Fail(string message) => Failures.Fail(message);
}
