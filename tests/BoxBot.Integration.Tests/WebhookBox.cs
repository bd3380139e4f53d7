using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BoxBot.Contracts;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The real webhook executable in a throwaway BOXBOT_HOME with its two credentials, and (when started) a stand-in agent:
/// a real JSON-RPC server on the agent's socket that records what the webhook forwards.
/// </summary>
internal sealed class WebhookBox : IAsyncDisposable
{
    public const string AppSecret = "test-app-secret-0123456789abcdef";
    public const string VerifyToken = "test-verify-token";
    public const string PhoneNumberId = "106540352242922";

    /// <summary>Config lines that keep the rate limits out of the way of tests about something else.</summary>
    public const string NoRateLimits = "sender_messages_per_minute = 1000000\nglobal_messages_per_minute = 10000000\n";

    private JsonRpcServer? _agent;

    public WebhookBox(string configToml = "", string? verifyToken = VerifyToken, string? appSecret = AppSecret)
    {
        Home = TestEnv.TempDir("webhook");
        Config = Path.Combine(Home, "test.toml");
        File.WriteAllText(Config, "[webhook]\nport = 0\n" + configToml);
        WriteCredentials(Home, appSecret, verifyToken);
    }

    /// <summary>The webhook's two credentials in a development home's credentials folder (0700, files 0600); null leaves one out.</summary>
    public static void WriteCredentials(string home, string? appSecret = AppSecret, string? verifyToken = VerifyToken)
    {
        var credentials = Directory.CreateDirectory(Path.Combine(home, "credentials"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        WriteSecret(credentials, "whatsapp-app-secret", appSecret);
        WriteSecret(credentials, "whatsapp-verify-token", verifyToken);
    }

    public string Home { get; }
    public string Config { get; }
    public DaemonProcess? Webhook { get; private set; }
    public string Listen { get; private set; } = "";

    /// <summary>What the stand-in agent received, in order (duplicates included, if any came).</summary>
    public ConcurrentQueue<WhatsAppEvent> Received { get; } = new();

    /// <summary>When set, the stand-in agent refuses every batch with this error.</summary>
    public volatile string? AgentFails;

    public async Task<WebhookBox> StartWebhookAsync()
    {
        Webhook = DaemonProcess.Start(Daemons.Webhook, Home, ["--config", Config]);
        var status = await Webhook.WaitReadyAsync();
        Listen = status.Details["listen"];
        return this;
    }

    public void KillWebhook()
    {
        TestEnv.Signal(Webhook!.Process.Id, BoxBot.Linux.LinuxProcess.SIGKILL);
        Webhook.WaitExit();
        Webhook.Dispose();
        Webhook = null;
    }

    public void StartAgent()
    {
        Directory.CreateDirectory(Path.Combine(Home, "run"));
        var server = new JsonRpcServer(new IpcServerOptions { SocketPath = Path.Combine(Home, "run", Daemons.Agent.SocketName) }, NullLogger<JsonRpcServer>.Instance);
        server.Map(WhatsAppMethods.Inbound, CallerPolicy.Of(Principal.Root), WhatsAppJsonContext.Default.WhatsAppInboundBatch, WhatsAppJsonContext.Default.WhatsAppInboundAck,
            (batch, _, _) =>
            {
                if (AgentFails is { } error)
                {
                    throw new RpcException(RpcErrorCodes.Unavailable, error);
                }
                foreach (var e in batch.Events)
                {
                    Received.Enqueue(e);
                }
                return ValueTask.FromResult(new WhatsAppInboundAck { Acked = batch.Events.Select(e => e.Key).ToList() });
            });
        server.Start();
        _agent = server;
    }

    public async Task StopAgentAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
            _agent = null;
        }
    }

    public async Task<IReadOnlyDictionary<string, string>> StatusAsync() => (await Webhook!.StatusAsync()).Details;

    /// <summary>Polls the webhook's status until <paramref name="done"/> holds (or fails the test after 20 s).</summary>
    public async Task<IReadOnlyDictionary<string, string>> WaitStatusAsync(Func<IReadOnlyDictionary<string, string>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var details = await StatusAsync();
            if (done(details))
            {
                return details;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("status never reached the expected state: " + string.Join(", ", details.Select(kv => $"{kv.Key}={kv.Value}")) + "\n" + Webhook!.Log);
            }
            await Task.Delay(50);
        }
    }

    public static long Count(IReadOnlyDictionary<string, string> details, string key) => long.Parse(details[key], CultureInfo.InvariantCulture);

    public HttpClient Http() => new() { BaseAddress = new Uri("http://" + Listen), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A POST of <paramref name="body"/> signed with <paramref name="secret"/> (the box's own by default).</summary>
    public static HttpRequestMessage Signed(string body, string secret = AppSecret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", Signature(Encoding.UTF8.GetBytes(body), secret));
        return request;
    }

    public static string Signature(byte[] body, string secret = AppSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>An official-shape delivery of one text message.</summary>
    public static string TextDelivery(string from, string id, string text, string name = "Test Person", long timestamp = 1_700_000_000) => $$"""
        {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"{{PhoneNumberId}}"},
        "contacts":[{"profile":{"name":"{{name}}"},"wa_id":"{{from}}"}],
        "messages":[{"from":"{{from}}","id":"{{id}}","timestamp":"{{timestamp}}","text":{"body":"{{text}}"},"type":"text"}]},"field":"messages"}]}]}
        """;

    /// <summary>Sends raw bytes on a fresh connection and returns whatever comes back until the server closes or <paramref name="wait"/> passes.</summary>
    public async Task<string> RawAsync(byte[] request, TimeSpan wait, bool closeAfterSend = false)
    {
        var parts = Listen.Split(':');
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
        await socket.SendAsync(request);
        if (closeAfterSend)
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        return await ReadUntilClosedAsync(socket, wait);
    }

    public static async Task<string> ReadUntilClosedAsync(Socket socket, TimeSpan wait)
    {
        var received = new MemoryStream();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }
                received.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        return Encoding.ASCII.GetString(received.ToArray());
    }

    private static void WriteSecret(string folder, string name, string? value)
    {
        if (value is null)
        {
            return;
        }
        File.WriteAllText(Path.Combine(folder, name), value, new UTF8Encoding(false));
        File.SetUnixFileMode(Path.Combine(folder, name), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public async ValueTask DisposeAsync()
    {
        if (Webhook is not null)
        {
            TestEnv.Signal(Webhook.Process.Id, BoxBot.Linux.LinuxProcess.SIGTERM);
            Webhook.WaitExit();
            Webhook.Dispose();
        }
        await StopAgentAsync();
        Directory.Delete(Home, recursive: true);
    }
}
