using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BoxBot.Contracts;

namespace BoxBot.Integration.Tests;

/// <summary>
/// The AOT-published plugin host against a remote broker (a real nats-server with password users): its credentials, and
/// what it refuses before connecting (a password in the URL, plaintext or anonymous off this machine, another device's
/// portal credentials), each said in status while the daemon keeps serving.
/// </summary>
public class PluginHostMeshTests
{
    private const string Password = "mesh-test-password-5d2c";
    private string _home = "";
    private Process? _nats;
    private int _port;

    [SetUp]
    public void SetUp()
    {
        var server = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server" }.FirstOrDefault(File.Exists)
            ?? throw new AssertionException("nats-server is not installed: run scripts/install-prereqs.sh (make test does)");
        _home = TestEnv.TempDir("mesh");
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var natsConfig = Path.Combine(_home, "nats.conf");
        File.WriteAllText(natsConfig, $"listen: 127.0.0.1:{_port}\nauthorization {{ users = [ {{ user: box, password: \"{Password}\" }} ] }}\n");
        _nats = Process.Start(new ProcessStartInfo(server, ["-c", natsConfig]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _nats.BeginErrorReadLine();
        _nats.BeginOutputReadLine();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, _port);
                break;
            }
            catch (SocketException) when (waited.Elapsed < TimeSpan.FromSeconds(10) && !_nats.HasExited)
            {
                Thread.Sleep(50);
            }
        }
        WriteConfig($"url = \"nats://127.0.0.1:{_port}\"\nuser = \"box\"\n");
        Directory.CreateDirectory(Path.Combine(_home, "credentials"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [TearDown]
    public void TearDown()
    {
        if (_nats is { HasExited: false })
        {
            _nats.Kill();
            _nats.WaitForExit();
        }
        _nats?.Dispose();
        if (!string.IsNullOrEmpty(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Test]
    public async Task The_plugin_host_connects_to_the_mesh_with_the_password_from_its_credential()
    {
        WriteCredential(Password);
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);
        await host.WaitReadyAsync();

        Assert.That(async () => (await host.StatusAsync()).Details["mesh"], Is.EqualTo("connected").After(10000, 100), host.Log);
        Assert.That(host.Log, Does.Not.Contain(Password));
    }

    [Test]
    public async Task On_a_remote_broker_the_box_answers_as_a_device_but_serves_no_admin_device_the_broker_does_not_guard()
    {
        WriteConfig($"url = \"nats://127.0.0.1:{_port}\"\nuser = \"box\"\nbox_id = \"kitchen\"\n");
        WriteCredential(Password);
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);
        await host.WaitReadyAsync();
        Assert.That(async () => (await host.StatusAsync()).Details["mesh"], Is.EqualTo("connected").After(10000, 100), host.Log);
        // Another member of the tenant: on this broker (as on a portal) everyone may publish everything.
        await using var peer = await BoxBot.Mesh.MeshClient.ConnectAsync(BoxBot.Mesh.MeshOptions.For(new Uri($"nats://127.0.0.1:{_port}")) with
        {
            User = "box",
            Password = Password,
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var status = System.Text.Json.JsonDocument.Parse(await peer.RequestAsync("device-connect.default.kitchen.cmd",
            """{"jsonrpc": "2.0", "id": "t-1", "method": "get_status", "params": {}}"""u8.ToArray(), TimeSpan.FromSeconds(5))).RootElement;
        var admin = await peer.RequestAsync("device-connect.default.kitchen-admin.cmd",
            """{"jsonrpc": "2.0", "id": "t-2", "method": "get_status", "params": {}}"""u8.ToArray(), TimeSpan.FromSeconds(2)).ContinueWith(t => t.Exception?.InnerException);

        Assert.That(status.GetProperty("result").GetProperty("name").GetString(), Is.EqualTo("kitchen"), status.GetRawText());
        Assert.That(admin, Is.InstanceOf<BoxBot.Mesh.MeshException>(), "no responders: nobody serves kitchen-admin here");
        Assert.That(((BoxBot.Mesh.MeshException)admin!).Kind, Is.EqualTo(BoxBot.Mesh.MeshErrorKind.NoResponders));
    }

    [Test]
    public async Task A_wrong_mesh_password_is_reported_in_status_while_the_daemon_keeps_serving()
    {
        WriteCredential("not-the-password");
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);
        await host.WaitReadyAsync();

        Assert.That(async () => (await host.StatusAsync()).Details["mesh"], Does.StartWith("down:").After(10000, 100), host.Log);
        Assert.That(host.Process.HasExited, Is.False);
        Assert.That(host.Log, Does.Not.Contain("not-the-password"));
    }

    [Test]
    public void A_mesh_url_carrying_a_password_is_refused_at_start()
    {
        WriteConfig($"url = \"nats://box:{Password}@127.0.0.1:{_port}\"\n");
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);

        Assert.That(host.WaitExit(), Is.EqualTo(1));
        Assert.That(host.Log, Does.Contain("mesh-password"));
        Assert.That(host.Log, Does.Not.Contain(Password));
    }

    [TestCase("url = \"nats://192.0.2.7:4222\"\nuser = \"box\"\n", "mesh-password", "plaintext to another machine")]
    [TestCase("url = \"tls://192.0.2.7:4222\"\n", null, "no mesh credentials are set")]
    [TestCase("url = \"tls://192.0.2.7:4222\"\nuser = \"box\"\n", "mesh-password", "no CA is configured")]
    public async Task What_would_be_unsafe_off_this_machine_is_refused_before_connecting_and_said_in_status(string mesh, string? credential, string reason)
    {
        WriteConfig(mesh);
        if (credential is not null)
        {
            WriteCredential(Password, credential);
        }
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);
        await host.WaitReadyAsync();

        Assert.That(async () => (await host.StatusAsync()).Details["mesh"], Does.StartWith("down:").And.Contain(reason).After(10000, 100), host.Log);
        Assert.That(host.Log, Does.Not.Contain(Password));
    }

    [Test]
    public async Task A_portal_credential_for_another_device_is_refused_naming_both()
    {
        WriteConfig($"url = \"nats://127.0.0.1:{_port}\"\nbox_id = \"kitchen\"\n");
        var portal = new BoxBot.Mesh.Credentials.PortalCredentials("garage", "default", [new Uri($"nats://127.0.0.1:{_port}")],
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVQUJDIiwiaXNzIjoiQUJDIiwibmF0cyI6eyJ0eXBlIjoidXNlciJ9fQ.c2ln",
            "SUAAVDEV7Q3LYK2WLNT2NSKQ5ZSGQAIF5Q3NBRTOQU5JEMXMZKAAFMNUAE");
        WriteCredential(portal.ToJson(null), "mesh-creds-json");
        using var host = DaemonProcess.Start(Daemons.PluginHost, _home);
        await host.WaitReadyAsync();

        Assert.That(async () => (await host.StatusAsync()).Details["mesh"],
            Does.Contain("mesh-creds-json is for device 'garage', but this box is 'kitchen'").After(10000, 100), host.Log);
    }

    private void WriteConfig(string mesh) =>
        File.WriteAllText(Path.Combine(_home, "boxbot.toml"), "[mesh]\nbroker = \"remote\"\n" + mesh);

    private void WriteCredential(string value, string name = "mesh-password")
    {
        var path = Path.Combine(_home, "credentials", name);
        File.WriteAllText(path, value);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
