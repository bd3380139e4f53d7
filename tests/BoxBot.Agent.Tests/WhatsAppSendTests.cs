using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BoxBot.Agent.Identity;
using BoxBot.Agent.Storage;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Ipc;
using BoxBot.WhatsApp.Outbound;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Agent.Tests;

/// <summary>
/// <c>whatsapp.send</c> as a caller meets it: the agent's handler on a real JSON-RPC socket, a real database for the
/// records, and a loopback fake of the Graph API speaking HTTP/1.1.
/// </summary>
public class WhatsAppSendTests
{
    private const string Admin = "4915112345678";

    private TempFolder _dir = null!;
    private FakeGraphApi _graph = null!;
    private AgentDatabase _database = null!;
    private WhatsAppLog _whatsAppLog = null!;
    private TestRegistry _registry = null!;
    private AgentService _agent = null!;
    private JsonRpcServer? _server;
    private JsonRpcClient? _client;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempFolder();
        _graph = FakeGraphApi.Start();
        _database = AgentDatabase.Open(_dir.Path);
        _whatsAppLog = new WhatsAppLog(_database, TimeProvider.System);
        _registry = new TestRegistry(_database, TimeProvider.System);
        _registry.Register(Admin);
        _agent = new AgentService();
        _agent.UseRegistry(_registry.Registry);
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        await _agent.DisposeAsync();
        _database.Dispose();
        _graph.Dispose();
        _dir.Dispose();
    }

    [Test]
    public async Task An_admin_sends_to_a_registered_user_and_every_part_is_recorded_for_its_receipts()
    {
        var client = await StartAsync();

        var result = await SendAsync(client, Admin, new string('x', 5000));

        Assert.That(result.Outcome, Is.EqualTo("sent"));
        Assert.That(result.Parts, Is.EqualTo(2));
        Assert.That(result.MessageIds, Is.EqualTo(new[] { "wamid.1", "wamid.2" }));
        Assert.That(_graph.Bodies, Has.Count.EqualTo(2));
        Assert.That(_whatsAppLog.OutboundStatus("wamid.1"), Is.EqualTo("accepted"));
        Assert.That(_whatsAppLog.OutboundStatus("wamid.2"), Is.EqualTo("accepted"));
    }

    [Test]
    public async Task Another_number_is_refused_with_the_Refused_code_and_nothing_reaches_WhatsApp()
    {
        var client = await StartAsync();

        var e = (await Assert.ThrowsAsync<RpcException>(() => SendAsync(client, "447700900123", "hello")))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.Refused));
        Assert.That(e.Message, Is.EqualTo("not a registered user: 447700900123; the box sends only to registered users"));
        Assert.That(_graph.Bodies, Is.Empty);
    }

    [Test]
    public async Task A_removed_user_and_a_blocked_sender_are_refused_and_nothing_is_recorded_for_them()
    {
        const string friend = "4915100000002";
        const string guesser = "4915100000003";
        _registry.Register(friend);
        var client = await StartAsync(token: null);
        Assert.That((await SendAsync(client, friend, "hello")).Outcome, Is.EqualTo("outbox"));

        _registry.Registry.Remove(friend, "console:test");
        for (var i = 0; i < UserRegistry.FailuresToBlock; i++)
        {
            _registry.Send(guesser, "000000");
        }

        foreach (var number in new[] { friend, guesser })
        {
            var e = (await Assert.ThrowsAsync<RpcException>(() => SendAsync(client, number, "hello again")))!;
            Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.Refused), number);
        }
        var outbox = File.ReadAllLines(_dir.File(AgentService.OutboxFileName));
        Assert.That(outbox, Has.Length.EqualTo(1));
        Assert.That(outbox, Has.None.Contains(guesser));
    }

    [TestCase(Admin, "", "text is empty")]
    [TestCase(Admin, "   ", "text is empty")]
    [TestCase(Admin, null, "text is 65537 characters; at most 65536 are sent (16 messages of 4096)")]
    [TestCase("0151 12345678", "hi", "is not a phone number in international form")]
    public async Task Empty_or_oversized_texts_and_malformed_numbers_are_invalid_params(string to, string? text, string message)
    {
        var client = await StartAsync();

        var e = (await Assert.ThrowsAsync<RpcException>(() => SendAsync(client, to, text ?? new string('x', 16 * 4096 + 1))))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.InvalidParams));
        Assert.That(e.Message, Does.Contain(message));
        Assert.That(_graph.Bodies, Is.Empty);
    }

    [Test]
    public async Task The_24_hour_refusal_comes_back_as_an_upstream_error_with_what_to_do()
    {
        _graph.Then(400, """{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}}""");
        var client = await StartAsync();

        var e = (await Assert.ThrowsAsync<RpcException>(() => SendAsync(client, Admin, "hello")))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.Upstream));
        Assert.That(e.Message, Is.EqualTo("WhatsApp refused: more than 24 hours since 4915112345678 last wrote to the box; only template messages " +
            "may be sent until they write again (Graph error 131047)"));
        Assert.That(_whatsAppLog.OutboundStatus("wamid.1"), Is.Null);
    }

    [Test]
    public async Task Without_an_access_token_the_text_goes_to_the_outbox_in_the_state_folder_and_status_says_so()
    {
        var client = await StartAsync(token: null);

        var result = await SendAsync(client, Admin, "hello");

        Assert.That(result.Outcome, Is.EqualTo("outbox"));
        Assert.That(result.Outbox, Is.EqualTo(_dir.File(AgentService.OutboxFileName)));
        Assert.That(File.ReadAllText(result.Outbox!), Does.Contain("\"sent\":false"));
        Assert.That(_graph.Bodies, Is.Empty);
        Assert.That(Status(), Is.EqualTo("outbox (no access token)"));
    }

    [Test]
    public async Task Status_says_graph_when_a_token_and_a_phone_number_id_are_set_and_names_a_missing_phone_number_id()
    {
        await StartAsync();
        Assert.That(Status(), Is.EqualTo("graph"));

        _agent.UseOutbound(Options() with { PhoneNumberId = "" }, "EAAGtoken");
        Assert.That(Status(), Is.EqualTo("outbox (no phone_number_id)"));
    }

    [Test]
    public async Task A_caller_outside_the_policy_is_refused_before_the_handler_runs()
    {
        var client = await StartAsync(callers: CallerPolicy.Of(Principal.Uid(uint.MaxValue - 1)));

        var e = (await Assert.ThrowsAsync<RpcException>(() => SendAsync(client, Admin, "hello")))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.Unauthorized));
        Assert.That(_graph.Bodies, Is.Empty);
    }

    private OutboundOptions Options() => OutboundOptions.From(new WhatsAppOptions(_graph.Url, "v23.0", "1234567890"),
        _dir.File(AgentService.OutboxFileName));

    private async Task<JsonRpcClient> StartAsync(string? token = "EAAGtoken", CallerPolicy? callers = null)
    {
        _agent.UseOutbound(Options(), token, (_, _) => Task.CompletedTask);
        _agent.UseWhatsAppLog(_whatsAppLog);
        var socket = _dir.File("agent.sock");
        _server = new JsonRpcServer(new IpcServerOptions { SocketPath = socket }, NullLogger.Instance);
        _agent.MapOutbound(_server, callers ?? CallerPolicy.Of(Principal.Self));
        _server.Start();
        _client = await JsonRpcClient.ConnectAsync(socket);
        return _client;
    }

    private static Task<WhatsAppSendResult> SendAsync(JsonRpcClient client, string to, string text) =>
        client.CallAsync(WhatsAppMethods.Send, new WhatsAppSendRequest { To = to, Text = text },
            WhatsAppJsonContext.Default.WhatsAppSendRequest, WhatsAppJsonContext.Default.WhatsAppSendResult);

    private string Status()
    {
        var details = new Dictionary<string, string>();
        _agent.AddOutboundStatus(details);
        return details["whatsapp_outbound"];
    }

    /// <summary>
    /// The Graph API's <c>/messages</c> endpoint, just enough of it: HTTP/1.1 on a loopback TcpListener, one request per
    /// connection. Answers from a script, then accepts each message as <c>wamid.N</c>.
    /// </summary>
    private sealed class FakeGraphApi : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentQueue<(int Status, string Body)> _script = new();
        private readonly ConcurrentQueue<string> _bodies = new();
        private int _accepted;

        public Uri Url { get; private set; } = null!;

        public IReadOnlyList<string> Bodies => [.. _bodies];

        public static FakeGraphApi Start()
        {
            var fake = new FakeGraphApi();
            fake._listener.Start();
            fake.Url = new Uri($"http://127.0.0.1:{((IPEndPoint)fake._listener.LocalEndpoint).Port}/");
            _ = fake.AcceptAsync();
            return fake;
        }

        public void Then(int status, string body) => _script.Enqueue((status, body));

        public void Dispose() => _listener.Dispose();

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient connection;
                try
                {
                    connection = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return;
                }
                _ = ServeAsync(connection);
            }
        }

        private async Task ServeAsync(TcpClient connection)
        {
            using var _ = connection;
            var stream = connection.GetStream();
            var head = new List<byte>();
            var one = new byte[1];
            while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
            {
                if (await stream.ReadAsync(one) == 0)
                {
                    return;
                }
                head.Add(one[0]);
            }
            var length = Encoding.ASCII.GetString([.. head]).Split("\r\n")
                .Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                .Select(h => int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).Single();
            var body = new byte[length];
            await stream.ReadExactlyAsync(body);
            _bodies.Enqueue(Encoding.UTF8.GetString(body));
            var (status, answer) = _script.TryDequeue(out var next) ? next : (200, Accept(body));
            var bytes = Encoding.UTF8.GetBytes(answer);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n" +
                $"Content-Length: {bytes.Length}\r\nConnection: close\r\n\r\n"));
            await stream.WriteAsync(bytes);
        }

        private string Accept(byte[] request)
        {
            var to = JsonDocument.Parse(request).RootElement.GetProperty("to").GetString();
            return $$"""{"messaging_product":"whatsapp","contacts":[{"input":"{{to}}","wa_id":"{{to}}"}],"messages":[{"id":"wamid.{{Interlocked.Increment(ref _accepted)}}"}]}""";
        }
    }
}
