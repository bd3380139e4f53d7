using System.Net;
using System.Net.Sockets;
using System.Text;
using BoxBot.Sandbox.Egress;
using Microsoft.Extensions.Logging;

namespace BoxBot.Sandbox.Tests;

/// <summary>
/// The egress proxy over a real Unix socket, against real loopback origins. The only servers a test can reach are
/// on loopback, so the success paths allow loopback; the attacks run against the default policy (or one that
/// treats a single loopback address as "public", to see which address was dialled) and show the origin behind
/// the refused address never sees a connection.
/// </summary>
public sealed class EgressProxyTests
{
    private static readonly EgressOptions LoopbackAllowed = EgressOptions.Default with { IsAllowed = IPAddress.IsLoopback };

    private static Func<string, CancellationToken, Task<IPAddress[]>> Answers(string name, params string[] addresses) => (host, _) =>
        host == name ? Task.FromResult(addresses.Select(IPAddress.Parse).ToArray()) : throw new SocketException((int)SocketError.HostNotFound);

    // ---- what a job is meant to be able to do ----

    [Test]
    public async Task A_CONNECT_tunnel_carries_bytes_both_ways()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n");
        Assert.That(await Wire.ReadUntilAsync(client, "\r\n\r\n"), Is.EqualTo("HTTP/1.1 200 Connection established\r\n\r\n"));
        await Wire.SendAsync(client, "ping through the tunnel\n");
        Assert.That(await Wire.ReadUntilAsync(client, "\n"), Is.EqualTo("ping through the tunnel\n"));
        Assert.That(origin.Connections, Is.EqualTo(1));
        Assert.That(proxy.Log.Entries.Any(e => e.Message.Contains($"CONNECT 127.0.0.1:{origin.Port} to 127.0.0.1", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task Bytes_sent_right_after_the_CONNECT_head_reach_the_origin()
    {
        // A TLS client may send its ClientHello without waiting for the 200: it arrives in the same read as the head.
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"CONNECT localhost:{origin.Port} HTTP/1.1\r\n\r\nearly bytes\n");
        Assert.That(await Wire.ReadUntilAsync(client, "\n"), Is.EqualTo("HTTP/1.1 200 Connection established\r\n"));
        Assert.That(await Wire.ReadUntilAsync(client, "early bytes\n"), Is.EqualTo("\r\nearly bytes\n"));
    }

    [Test]
    public async Task A_half_close_from_the_client_reaches_the_origin_and_the_answer_still_comes_back()
    {
        // The origin answers only once it has seen the end of the request: without the half-close it waits forever.
        await using var origin = new LoopbackOrigin(async socket =>
        {
            var received = 0;
            var buffer = new byte[4096];
            int n;
            while ((n = await socket.ReceiveAsync(buffer)) > 0)
            {
                received += n;
            }
            await socket.SendAsync(Encoding.ASCII.GetBytes($"got {received} bytes"));
        });
        await using var proxy = new EgressHarness(LoopbackAllowed);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n");
        await Wire.ReadUntilAsync(client, "\r\n\r\n");
        await Wire.SendAsync(client, new string('x', 100_000));
        client.Shutdown(SocketShutdown.Send);
        Assert.That(await Wire.ReadToEndAsync(client), Is.EqualTo("got 100000 bytes"));
    }

    [Test]
    public async Task An_absolute_form_GET_goes_to_the_origin_in_origin_form_without_hop_by_hop_headers_and_with_Connection_close()
    {
        var seen = new TaskCompletionSource<string>();
        await using var origin = new LoopbackOrigin(async socket =>
        {
            seen.SetResult(await Wire.ReadUntilAsync(socket, "\r\n\r\n"));
            await Wire.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        });
        await using var proxy = new EgressHarness(LoopbackAllowed);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"GET http://127.0.0.1:{origin.Port}/path/to?q=1 HTTP/1.1\r\n" +
            "Host: somewhere.else\r\nUser-Agent: job\r\nProxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n" +
            "Keep-Alive: timeout=5\r\nConnection: keep-alive, X-Private-Hop\r\nX-Private-Hop: 1\r\nUpgrade: h2c\r\nAccept: */*\r\n\r\n");
        // The client never closes its side: the exchange ends because the origin did.
        var response = await Wire.ReadToEndAsync(client);
        var head = await seen.Task;

        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK\r\n").And.EndWith("\r\n\r\nhello"));
        Assert.That(head, Does.StartWith("GET /path/to?q=1 HTTP/1.1\r\n"));
        Assert.That(head, Does.Contain($"\r\nHost: 127.0.0.1:{origin.Port}\r\n"));
        Assert.That(head, Does.Contain("\r\nUser-Agent: job\r\n").And.Contain("\r\nAccept: */*\r\n"));
        Assert.That(head, Does.EndWith("\r\nConnection: close\r\n\r\n"));
        Assert.That(head, Does.Not.Contain("Proxy-").And.Not.Contain("Keep-Alive").And.Not.Contain("X-Private-Hop")
            .And.Not.Contain("Upgrade").And.Not.Contain("somewhere.else").And.Not.Contain("keep-alive"));
    }

    [Test]
    public async Task A_request_body_is_relayed_to_the_origin()
    {
        await using var origin = new LoopbackOrigin(async socket =>
        {
            var head = await Wire.ReadUntilAsync(socket, "\r\n\r\n");
            var body = await Wire.ReadUntilAsync(socket, "hello world");
            await Wire.SendAsync(socket, $"HTTP/1.1 201 Created\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        });
        await using var proxy = new EgressHarness(LoopbackAllowed);
        var response = await proxy.ExchangeAsync($"POST http://localhost:{origin.Port} HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
        Assert.That(Wire.Status(response), Is.EqualTo(201));
        Assert.That(Wire.Body(response), Is.EqualTo("hello world"));
    }

    // ---- the policy: never the box, the LAN or anything else that is not public ----

    [Test]
    public async Task CONNECT_to_loopback_is_refused_with_403_and_the_origin_never_sees_a_connection()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(EgressOptions.Default);

        var response = await proxy.ExchangeAsync($"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n");

        Assert.That(Wire.Status(response), Is.EqualTo(403), response);
        Assert.That(Wire.Body(response), Is.EqualTo("127.0.0.1 is not a public address\n"));
        // The why is in the status line too: a CONNECT client shows a script nothing else of the answer.
        Assert.That(response, Does.StartWith("HTTP/1.1 403 Forbidden: 127.0.0.1 is not a public address (boxbot egress proxy)\r\n"));
        Assert.That(response, Does.Contain("\r\nConnection: close\r\n"));
        Assert.That(origin.Connections, Is.Zero);
        Assert.That(proxy.Log.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e =>
            e.Level == LogLevel.Warning && e.Message.Contains($"403 CONNECT 127.0.0.1:{origin.Port}", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_name_that_resolves_only_to_private_and_loopback_addresses_is_refused_with_403()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(EgressOptions.Default with { Resolve = Answers("intranet.example", "10.0.0.1", "127.0.0.1") });

        var response = await proxy.ExchangeAsync($"CONNECT intranet.example:{origin.Port} HTTP/1.1\r\n\r\n");

        Assert.That(Wire.Status(response), Is.EqualTo(403), response);
        Assert.That(Wire.Body(response), Is.EqualTo("intranet.example resolves only to non-public addresses (10.0.0.1, 127.0.0.1)\n"));
        Assert.That(origin.Connections, Is.Zero);
    }

    [TestCase("[::ffff:127.0.0.1]")]
    [TestCase("[::1]")]
    [TestCase("0.0.0.0")]
    [TestCase("169.254.169.254")]
    [TestCase("[64:ff9b::7f00:1]")]
    [TestCase("[fe80::1]")]
    public async Task CONNECT_to_a_non_public_literal_is_refused_with_403_and_reaches_nothing(string host)
    {
        // 0.0.0.0, ::1 and ::ffff:127.0.0.1 all lead to this box: the origin listens on both loopbacks to prove none got there.
        await using var origin = LoopbackOrigin.Echo();
        await using var origin6 = Socket.OSSupportsIPv6 ? LoopbackOrigin.Echo(IPAddress.IPv6Loopback, origin.Port) : null;
        await using var proxy = new EgressHarness(EgressOptions.Default);

        var response = await proxy.ExchangeAsync($"CONNECT {host}:{origin.Port} HTTP/1.1\r\n\r\n");

        Assert.That(Wire.Status(response), Is.EqualTo(403), response);
        Assert.That(origin.Connections + (origin6?.Connections ?? 0), Is.Zero);
    }

    [Test]
    public async Task A_plain_HTTP_request_to_a_name_for_the_metadata_service_is_refused_with_403()
    {
        await using var proxy = new EgressHarness(EgressOptions.Default with { Resolve = Answers("metadata.example", "169.254.169.254") });
        var response = await proxy.ExchangeAsync("GET http://metadata.example/latest/meta-data/ HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(403), response);
        Assert.That(Wire.Body(response), Does.Contain("169.254.169.254"));
    }

    [Test]
    public async Task A_mixed_answer_connects_only_to_the_allowed_address()
    {
        // 127.0.0.1 plays the public address, 127.0.0.2 the private one, listed first as a rebinding answer would.
        await using var publicOrigin = LoopbackOrigin.Echo();
        await using var privateOrigin = LoopbackOrigin.Echo(IPAddress.Parse("127.0.0.2"), publicOrigin.Port);
        var options = EgressOptions.Default with
        {
            IsAllowed = a => a.Equals(IPAddress.Loopback),
            Resolve = Answers("mixed.example", "127.0.0.2", "127.0.0.1"),
        };
        await using var proxy = new EgressHarness(options);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"CONNECT mixed.example:{publicOrigin.Port} HTTP/1.1\r\n\r\n");
        Assert.That(await Wire.ReadUntilAsync(client, "\r\n\r\n"), Does.StartWith("HTTP/1.1 200 "));
        await Wire.SendAsync(client, "x");
        await Wire.ReadUntilAsync(client, "x");

        Assert.That(publicOrigin.Connections, Is.EqualTo(1));
        Assert.That(privateOrigin.Connections, Is.Zero);
        Assert.That(proxy.Log.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Level == LogLevel.Warning && e.Message.Contains("127.0.0.2", StringComparison.Ordinal)));
    }

    [Test]
    public async Task The_proxy_dials_the_address_it_checked_and_never_resolves_a_second_time()
    {
        // DNS rebinding: the first answer passes the check, any later one points at the private origin.
        await using var publicOrigin = LoopbackOrigin.Echo();
        await using var privateOrigin = LoopbackOrigin.Echo(IPAddress.Parse("127.0.0.2"), publicOrigin.Port);
        var lookups = 0;
        var options = EgressOptions.Default with
        {
            IsAllowed = a => a.Equals(IPAddress.Loopback),
            Resolve = (_, _) => Task.FromResult(new[] { Interlocked.Increment(ref lookups) == 1 ? IPAddress.Loopback : IPAddress.Parse("127.0.0.2") }),
        };
        await using var proxy = new EgressHarness(options);
        using var client = await proxy.ConnectAsync();

        await Wire.SendAsync(client, $"CONNECT rebind.example:{publicOrigin.Port} HTTP/1.1\r\n\r\n");
        Assert.That(await Wire.ReadUntilAsync(client, "\r\n\r\n"), Does.StartWith("HTTP/1.1 200 "));
        await Wire.SendAsync(client, "x");
        await Wire.ReadUntilAsync(client, "x");

        Assert.That(lookups, Is.EqualTo(1));
        Assert.That(privateOrigin.Connections, Is.Zero);
    }

    [Test]
    public async Task Userinfo_in_the_URI_cannot_disguise_the_host()
    {
        // http://public.example@127.0.0.1/ would reach 127.0.0.1 with a careless parser; it is refused before any lookup.
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(EgressOptions.Default with { Resolve = Answers("public.example", "127.0.0.1") });
        var response = await proxy.ExchangeAsync($"GET http://public.example@127.0.0.1:{origin.Port}/ HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(400), response);
        Assert.That(Wire.Body(response), Does.Contain("userinfo"));
        Assert.That(origin.Connections, Is.Zero);
    }

    // ---- requests that are not proxy requests, and limits ----

    // Each would reach the loopback origin if the parser let it through (loopback is allowed here).
    [TestCase("GET / HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n", "origin-form")]
    [TestCase("CONNECT 127.0.0.1:0 HTTP/1.1\r\n\r\n", "port 0 is outside")]
    [TestCase("CONNECT 127.0.0.1:65536 HTTP/1.1\r\n\r\n", "port 65536 is outside")]
    [TestCase("CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", "host:port")]
    [TestCase("CONNECT 127.0.0.1:{0}x HTTP/1.1\r\n\r\n", "not a number")]
    [TestCase("CONNECT user@127.0.0.1:{0} HTTP/1.1\r\n\r\n", "userinfo")]
    [TestCase("GET https://127.0.0.1:{0}/ HTTP/1.1\r\n\r\n", "use CONNECT")]
    [TestCase("GET ftp://127.0.0.1:{0}/ HTTP/1.1\r\n\r\n", "neither")]
    [TestCase("CONNECT ::1:{0} HTTP/1.1\r\n\r\n", "brackets")]
    [TestCase("CONNECT [::1%lo]:{0} HTTP/1.1\r\n\r\n", "zone")]
    [TestCase("CONNECT 127.0.0.1:{0} HTTP/2.0\r\n\r\n", "HTTP version")]
    [TestCase("CONNECT  127.0.0.1:{0} HTTP/1.1\r\n\r\n", "request line")]
    [TestCase("CONNECT 127.0.0.1:{0} HTTP/1.1\n\n", "CRLF")]
    [TestCase("GET http://127.0.0.1:{0}/ HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", "folded")]
    [TestCase("GET http://127.0.0.1:{0}/ HTTP/1.1\r\nBad Header: 1\r\n\r\n", "NAME: VALUE")]
    [TestCase("GET http://127.0.0.1:{0}/#top HTTP/1.1\r\n\r\n", "fragment")]
    public async Task A_request_that_is_not_a_proxy_request_is_refused_with_400_saying_why(string template, string why)
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed);
        var response = await proxy.ExchangeAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, origin.Port));
        Assert.That(Wire.Status(response), Is.EqualTo(400), response);
        Assert.That(Wire.Body(response), Does.Contain(why));
        Assert.That(origin.Connections, Is.Zero);
        Assert.That(proxy.Log.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Level == LogLevel.Warning && e.Message.StartsWith("refused 400", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_request_head_larger_than_the_limit_is_refused_with_400()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed with { MaxHeaderBytes = 1024 });
        using var client = await proxy.ConnectAsync();
        await Wire.SendAsync(client, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n");
        for (var i = 0; i < 100; i++)
        {
            await Wire.SendAsync(client, $"X-Flood-{i}: {new string('a', 40)}\r\n");
        }
        var response = await Wire.ReadToEndAsync(client);
        Assert.That(Wire.Status(response), Is.EqualTo(400), response);
        Assert.That(Wire.Body(response), Does.Contain("larger than 1024 bytes"));
        Assert.That(origin.Connections, Is.Zero);
    }

    [Test]
    public async Task A_request_head_that_does_not_finish_within_the_header_timeout_is_refused_with_400()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed with { HeaderTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = await proxy.ConnectAsync();
        await Wire.SendAsync(client, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\nX-Slow: ");
        var response = await Wire.ReadToEndAsync(client);
        Assert.That(Wire.Status(response), Is.EqualTo(400), response);
        Assert.That(Wire.Body(response), Does.Contain("not complete within 0.3 s"));
        Assert.That(origin.Connections, Is.Zero);
        Assert.That(proxy.Log.Entries, Has.Some.Matches<(LogLevel Level, string Message)>(e => e.Message.Contains($"CONNECT 127.0.0.1:{origin.Port}", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_connection_over_the_limit_is_refused_with_503_and_a_freed_slot_serves_again()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed with { MaxConnections = 2 });
        using var first = await proxy.ConnectAsync();
        using var second = await proxy.ConnectAsync();
        await Wire.SendAsync(first, "CONNECT 127.0.0.1:");
        await Wire.SendAsync(second, "CONNECT 127.0.0.1:");
        await WaitUntil(() => proxy.Proxy.ActiveConnections == 2);

        var refused = await proxy.ExchangeAsync($"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(refused), Is.EqualTo(503), refused);
        Assert.That(origin.Connections, Is.Zero);

        first.Dispose();
        await WaitUntil(() => proxy.Proxy.ActiveConnections == 1);
        using var third = await proxy.ConnectAsync();
        await Wire.SendAsync(third, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.That(await Wire.ReadUntilAsync(third, "\r\n\r\n"), Does.StartWith("HTTP/1.1 200 "));
    }

    [Test]
    public async Task A_tunnel_with_no_traffic_is_closed_after_the_idle_timeout()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(LoopbackAllowed with { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = await proxy.ConnectAsync();
        await Wire.SendAsync(client, $"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n");
        await Wire.ReadUntilAsync(client, "\r\n\r\n");
        await Wire.SendAsync(client, "still here?");
        await Wire.ReadUntilAsync(client, "still here?");
        Assert.That(await Wire.ReadToEndAsync(client), Is.Empty);
        await WaitUntil(() => proxy.Log.Entries.Any(e => e.Message.Contains("closed (idle)", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_name_that_does_not_resolve_is_answered_502()
    {
        await using var proxy = new EgressHarness(EgressOptions.Default with { Resolve = Answers("known.example", "1.1.1.1") });
        var response = await proxy.ExchangeAsync("CONNECT unknown.example:443 HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(502), response);
        Assert.That(Wire.Body(response), Does.StartWith("cannot resolve unknown.example"));
    }

    [Test]
    public async Task A_resolver_that_does_not_answer_within_the_connect_timeout_is_answered_504()
    {
        var options = EgressOptions.Default with
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            Resolve = async (_, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                return [];
            },
        };
        await using var proxy = new EgressHarness(options);
        var response = await proxy.ExchangeAsync("CONNECT slow.example:443 HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(504), response);
    }

    [Test]
    public async Task An_origin_that_refuses_the_connection_is_answered_502()
    {
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var proxy = new EgressHarness(LoopbackAllowed);
        var response = await proxy.ExchangeAsync($"CONNECT 127.0.0.1:{closedPort} HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(502), response);
        Assert.That(Wire.Body(response), Does.StartWith($"cannot connect to 127.0.0.1 port {closedPort}"));
    }

    [Test]
    public async Task Clients_that_vanish_do_not_stop_the_proxy_and_the_log_never_shows_a_query_string()
    {
        await using var origin = LoopbackOrigin.Echo();
        await using var proxy = new EgressHarness(EgressOptions.Default);
        for (var i = 0; i < 5; i++)
        {
            using var vanishing = await proxy.ConnectAsync();
            await Wire.SendAsync(vanishing, "CONNECT 127.0.0.1:" + (i % 2 == 0 ? "" : "1 HTTP/1.1\r\n\r\n"));
        }
        var response = await proxy.ExchangeAsync($"GET http://127.0.0.1:{origin.Port}/x?api_key=SECRET HTTP/1.1\r\n\r\n");
        Assert.That(Wire.Status(response), Is.EqualTo(403), response);
        var log = string.Join('\n', proxy.Log.Entries.Select(e => e.Message));
        Assert.That(log, Does.Contain($"http://127.0.0.1:{origin.Port}/x?…"));
        Assert.That(log, Does.Not.Contain("SECRET"));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(EgressHarness.Patience);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }
}
