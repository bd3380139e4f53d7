using System.Net;
using System.Net.Sockets;
using System.Text;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The published <c>boxbot-sandbox egress</c> daemon on a socket of its own: it refuses the box itself with the
/// default policy, stops cleanly on SIGTERM, and never replaces a file that is not a socket.
/// </summary>
public class EgressDaemonTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TestEnv.TempDir("egress");

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task The_daemon_refuses_CONNECT_to_loopback_with_403_and_removes_its_socket_on_SIGTERM()
    {
        // Something to reach on loopback, so that only the policy stands between the request and a connection.
        using var origin = new TcpListener(IPAddress.Loopback, 0);
        origin.Start();
        var port = ((IPEndPoint)origin.LocalEndpoint).Port;
        var path = Path.Combine(_dir, "egress.sock");
        using var daemon = new ObservedProcess(TestEnv.Exe("boxbot-sandbox"), ["egress", "--socket", path], new Dictionary<string, string>());
        await daemon.WaitForLineAsync("ready");
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));

        using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
            await client.SendAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var response = new StringBuilder();
            var buffer = new byte[4096];
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                response.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            Assert.That(response.ToString(), Does.StartWith("HTTP/1.1 403 "));
            Assert.That(response.ToString(), Does.EndWith("\r\n\r\n127.0.0.1 is not a public address\n"));
        }
        Assert.That(origin.Pending(), Is.False, "the origin on loopback saw a connection");
        await daemon.WaitForLineAsync($"refused 403 CONNECT 127.0.0.1:{port}");

        TestEnv.Signal(daemon.Process.Id, LinuxProcess.SIGTERM);
        Assert.That(daemon.WaitExit(), Is.Zero, daemon.Log);
        Assert.That(File.Exists(path), Is.False, "the socket the daemon made is removed at stop");
    }

    [Test]
    public void The_daemon_refuses_to_replace_a_file_that_is_not_a_socket()
    {
        var path = Path.Combine(_dir, "egress.sock");
        File.WriteAllText(path, "not a socket");
        var (code, _, stderr) = TestEnv.Run(TestEnv.Exe("boxbot-sandbox"), ["egress", "--socket", path]);
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain("a regular file exists there"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("not a socket"));
    }
}
