using System.Net.Sockets;

namespace BoxBot.Sandbox.Integration.Tests;

/// <summary>
/// Network "internet": the job shares the host's network (loopback and LAN ranges are denied by the
/// unit's IPAddressDeny=, which `boxbot doctor` checks), can resolve names and verify TLS, and still
/// cannot open Unix sockets, so the host's abstract ones stay out of reach. Network "none": only lo.
/// </summary>
[Category("root")]
public sealed class NetworkTests
{
    private const string Probe = """
        import socket, ssl
        print(sorted(name for _, name in socket.if_nameindex()))
        print(socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)[0][4][0] in ("127.0.0.1", "::1"))
        print(ssl.create_default_context().cert_store_stats()["x509_ca"] > 0)
        """;

    [Test]
    public async Task An_internet_job_has_the_hosts_network_resolves_names_and_has_the_ca_certificates()
    {
        var r = await Jobs.RunAsync(Probe, network: JobNetwork.Internet);
        Assert.That(r.Status, Is.EqualTo("ok"), Jobs.Describe(r));
        var host = Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.That(r.Stdout, Is.EqualTo($"[{string.Join(", ", host.Select(n => $"'{n}'"))}]\nTrue\nTrue\n"));
    }

    [Test]
    public async Task A_job_without_network_has_only_its_own_loopback_and_no_name_service_files()
    {
        var r = await Jobs.RunAsync("import os, socket\nprint(sorted(n for _, n in socket.if_nameindex()), os.path.exists('/etc/resolv.conf'))");
        Assert.That((r.Status, r.Stdout), Is.EqualTo(("ok", "['lo'] False\n")), Jobs.Describe(r));
    }

    [Test]
    public async Task An_internet_job_cannot_reach_an_abstract_unix_socket_on_the_host()
    {
        // Same network namespace as the host, so the name is visible: only the seccomp rule against new Unix sockets is in the way.
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
