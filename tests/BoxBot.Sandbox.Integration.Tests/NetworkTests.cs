using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// Network "internet": the job has a network namespace of its own with nothing but loopback, where its proxy port is
/// relayed by the runner to the egress proxy (HTTP_PROXY/HTTPS_PROXY name it): the proxy, not the job, resolves names
/// and decides where a connection may go (public addresses only). The job still cannot open Unix sockets. Network
/// "none": only lo, down. Loopback origins stand in for the internet: a proxy that lets loopback through proves the
/// path works, the product's proxy proves the box's own loopback stays out of reach.
/// </summary>
[Category("root")]
public sealed class NetworkTests
{
    /// <summary>An HTTP origin on the host's loopback answering every request with "hello from the origin" and counting connections.</summary>
    private sealed class Origin : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private int _connections;

        public Origin()
        {
            _listener.Start();
            _ = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Connections => Volatile.Read(ref _connections);

        private async Task ServeAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return;
                }
                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        var buffer = new byte[4096];
                        var head = "";
                        while (!head.Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            var n = await stream.ReadAsync(buffer);
                            if (n == 0)
                            {
                                return;
                            }
                            head += Encoding.ASCII.GetString(buffer, 0, n);
                        }
                        const string body = "hello from the origin";
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
                    }
                });
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    [Test]
    public async Task An_internet_job_has_only_its_own_loopback_the_proxy_variables_and_the_ca_certificates()
    {
        const string probe = """
            import os, socket, ssl
            print(sorted(name for _, name in socket.if_nameindex()))
            print(os.environ['HTTPS_PROXY'], os.environ['http_proxy'], os.path.exists('/etc/resolv.conf'))
            print(ssl.create_default_context().cert_store_stats()["x509_ca"] > 0)
            """;
        var r = await Jobs.RunAsync(probe, network: JobNetwork.Internet);
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "['lo']\nhttp://127.0.0.1:3128 http://127.0.0.1:3128 False\nTrue\n")), Jobs.Describe(r));
    }

    [Test]
    public async Task An_internet_job_reaches_an_origin_through_the_egress_proxy_by_plain_http_and_by_connect()
    {
        using var origin = new Origin();
        await using var egress = new EgressEndpoint(IPAddress.IsLoopback);
        await using var runner = new SandboxRunner(SandboxFixture.Options("egress-open") with { EgressSocket = egress.SocketPath, WarmJobs = 0 }, NullLogger.Instance);
        var script = $$"""
            import socket, urllib.request
            print(urllib.request.urlopen('http://127.0.0.1:{{origin.Port}}/x', timeout=10).read().decode())
            s = socket.create_connection(('127.0.0.1', 3128), timeout=10)
            s.sendall(b'CONNECT 127.0.0.1:{{origin.Port}} HTTP/1.1\r\nHost: 127.0.0.1:{{origin.Port}}\r\n\r\n')
            f = s.makefile('rb')
            print(f.readline().decode().split(' ', 1)[1].strip())
            while f.readline() not in (b'\r\n', b''):
                pass
            s.sendall(b'GET / HTTP/1.1\r\nHost: origin\r\n\r\n')
            print(f.read().decode().split('\r\n\r\n', 1)[1])
            """;
        var r = await Jobs.RunAsync(script, runner, network: JobNetwork.Internet);
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "hello from the origin\n200 Connection established\nhello from the origin\n")), Jobs.Describe(r));
        Assert.That(origin.Connections, Is.EqualTo(2));
    }

    [Test]
    public async Task An_internet_job_cannot_reach_the_boxs_loopback_directly_or_through_the_proxy()
    {
        using var origin = new Origin();
        var script = $$"""
            import socket, urllib.error, urllib.request
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(('127.0.0.1', {{origin.Port}})); print('CONNECTED')
            except OSError:
                print('direct: unreachable')
            try:
                urllib.request.urlopen('http://127.0.0.1:{{origin.Port}}/', timeout=10); print('FETCHED')
            except urllib.error.HTTPError as e:
                print('proxy:', e.code)
            try:
                urllib.request.urlopen('https://localhost:{{origin.Port}}/', timeout=10); print('FETCHED')
            except urllib.error.URLError as e:
                print('tunnel:', e.reason)
            """;
        var r = await Jobs.RunAsync(script, network: JobNetwork.Internet);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Does.StartWith("direct: unreachable\nproxy: 403\ntunnel: Tunnel connection failed: 403"), Jobs.Describe(r));
        Assert.That(origin.Connections, Is.Zero, "nothing reached the box's loopback");
    }

    [Test]
    public async Task A_job_without_network_has_only_its_own_loopback_and_no_name_service_files()
    {
        var r = await Jobs.RunAsync("import os, socket\nprint(sorted(n for _, n in socket.if_nameindex()), os.path.exists('/etc/resolv.conf'))");
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "['lo'] False\n")), Jobs.Describe(r));
    }

    [Test]
    public async Task An_internet_job_cannot_open_a_unix_socket_even_to_reach_an_abstract_one()
    {
        // Its network namespace is its own, so the host's abstract names are not even there; the seccomp rule against new
        // Unix sockets is what a root runner's jobs had before, and it is still in the way.
        var name = "boxbot-sandbox-internet-test-" + Environment.ProcessId;
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        listener.Listen();
        var script = $"""
            import errno, socket
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect('\0{name}'); print('CONNECTED')
            except OSError as e:
                print('refused', errno.errorcode[e.errno])
            a, b = socket.socketpair()
            a.sendall(b'pair works'); print(b.recv(20).decode())
            """;
        var r = await Jobs.RunAsync(script, network: JobNetwork.Internet);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        Assert.That(r.Stdout, Is.EqualTo("refused EACCES\npair works\n"));
        Assert.That(listener.Poll(0, SelectMode.SelectRead), Is.False, "nothing is waiting to be accepted");
    }
}
