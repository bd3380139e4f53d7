using System.Net;
using BoxBot.Config.Internal;
using BoxBot.Contracts;
using Tomlyn;

namespace BoxBot.Config.Tests;

public class ConfigLoadingTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void An_empty_file_gives_the_defaults()
    {
        var loaded = ConfigLoader.Load(_dir.Write("boxbot.toml", ""));

        Assert.That(loaded.Config, Is.EqualTo(BoxBotConfig.Default));
        Assert.That(loaded.FromFile, Is.True);
        Assert.That(loaded.SourcePath, Is.EqualTo(_dir.File("boxbot.toml")));
    }

    [Test]
    public void The_defaults_are_the_documented_values()
    {
        var d = BoxBotConfig.Default;

        Assert.That(d.Box, Is.EqualTo(new BoxOptions(LogLevelSetting.Info, "boxbot-admin")));
        Assert.That(d.Ipc, Is.EqualTo(new IpcOptions(TimeSpan.FromMilliseconds(10000), 64)));
        Assert.That(d.Webhook, Is.EqualTo(new WebhookOptions("127.0.0.1", 8443, "", false, 262144, 100, 16384,
            TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), 240, 30, 600)));
        Assert.That(d.WhatsApp, Is.EqualTo(new WhatsAppOptions(new Uri("https://graph.facebook.com"), "v23.0", "")));
        Assert.That(d.PluginHost, Is.EqualTo(new PluginHostOptions("")));
        Assert.That(d.Mesh, Is.EqualTo(new MeshSettings(MeshBroker.Local, null, "", "default", "", 4222, false, false, "", "", TimeSpan.FromSeconds(5), 10)));
        Assert.That(Daemons.All.Select(d.SocketGroupFor), Is.All.Empty);
    }

    [Test]
    public void A_missing_file_is_an_error_that_says_what_to_do()
    {
        var path = _dir.File("nope.toml");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path))!;

        Assert.That(ex.Errors, Has.Count.EqualTo(1));
        Assert.That(ex.Message, Is.EqualTo($"{path}: config file not found: give the path of an existing file (packaging/boxbot.example.toml lists every key with its default)"));
    }

    [Test]
    public void A_missing_file_gives_the_defaults_when_defaults_are_allowed()
    {
        var loaded = ConfigLoader.LoadOrDefaults(_dir.File("nope.toml"));

        Assert.That(loaded.Config, Is.EqualTo(BoxBotConfig.Default));
        Assert.That(loaded.FromFile, Is.False);
    }

    [Test]
    public void An_invalid_file_is_still_an_error_when_defaults_are_allowed()
    {
        var path = _dir.Write("boxbot.toml", "[box]\nlog_level = \"loud\"\n");

        Assert.Throws<ConfigException>(() => ConfigLoader.LoadOrDefaults(path));
    }

    [Test]
    public void A_folder_in_place_of_the_file_is_an_error()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_dir.Path))!;

        Assert.That(ex.Message, Does.StartWith($"{_dir.Path}: is a directory"));
    }

    [Test]
    public void Every_key_is_read_from_the_file()
    {
        var path = _dir.Write("boxbot.toml", """
            [box]
            log_level = "debug"
            admin_group = "wheel"
            [ipc]
            request_timeout_ms = 2500
            max_connections = 8
            [agent]
            socket_group = "g-agent"
            [sandbox]
            socket_group = "g-sandbox"
            [webhook]
            listen_address = "::1"
            port = 0
            socket_group = "g-webhook"
            allow_public_bind = true
            max_body_bytes = 4096
            max_connections = 7
            max_header_bytes = 2048
            header_timeout_s = 3
            body_timeout_s = 4
            min_body_bytes_per_s = 100
            sender_messages_per_minute = 5
            global_messages_per_minute = 50
            [whatsapp]
            graph_url = "http://127.0.0.1:9999"
            api_version = "v19.0"
            phone_number_id = "1234567890"
            [perception]
            socket_group = "g-perception"
            [plugin-host]
            socket_group = "g-plugins"
            [mesh]
            broker = "remote"
            url = "tls://mesh.example.org:4222"
            user = "box-7"
            tenant = "acme"
            box_id = "kitchen-box"
            ca_file = "/etc/boxbot/mesh-ca.pem"
            [mesh.policy.admin]
            allow = ["lamp.*"]
            ask = ["robot.look_at_world", "robot.arm.wave"]
            deny = ["lamp.self_destruct"]
            """);

        var c = ConfigLoader.Load(path).Config;

        Assert.That(c.Box, Is.EqualTo(new BoxOptions(LogLevelSetting.Debug, "wheel")));
        Assert.That(c.Ipc, Is.EqualTo(new IpcOptions(TimeSpan.FromMilliseconds(2500), 8)));
        Assert.That(c.Webhook, Is.EqualTo(new WebhookOptions("::1", 0, "g-webhook", true, 4096, 7, 2048,
            TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4), 100, 5, 50)));
        Assert.That(c.WhatsApp, Is.EqualTo(new WhatsAppOptions(new Uri("http://127.0.0.1:9999"), "v19.0", "1234567890")));
        Assert.That(c.Mesh.Broker, Is.EqualTo(MeshBroker.Remote));
        Assert.That(c.Mesh.Url, Is.EqualTo(new Uri("tls://mesh.example.org:4222")));
        Assert.That((c.Mesh.User, c.Mesh.Tenant, c.Mesh.EffectiveBoxId, c.Mesh.CaFile), Is.EqualTo(("box-7", "acme", "kitchen-box", "/etc/boxbot/mesh-ca.pem")));
        Assert.That(c.Mesh.AdminPolicy.Decide("lamp", "switch_on"), Is.EqualTo("allow"));
        Assert.That(c.Mesh.AdminPolicy.Decide("lamp", "self_destruct"), Is.EqualTo("deny"), "deny wins");
        Assert.That(c.Mesh.AdminPolicy.Decide("robot", "arm.wave"), Is.EqualTo("ask"));
        Assert.That(c.Mesh.AdminPolicy.Decide("robot", "goto_sleep"), Is.EqualTo("deny"), "unlisted");
        Assert.That(c.Mesh.PolicyFor("user").Decide("lamp", "switch_on"), Is.EqualTo("deny"), "each role has its own rules");
        Assert.That(c.SocketGroupFor(Daemons.Agent), Is.EqualTo("g-agent"));
        Assert.That(c.SocketGroupFor(Daemons.Sandbox), Is.EqualTo("g-sandbox"));
        Assert.That(c.SocketGroupFor(Daemons.Webhook), Is.EqualTo("g-webhook"));
        Assert.That(c.SocketGroupFor(Daemons.Perception), Is.EqualTo("g-perception"));
        Assert.That(c.SocketGroupFor(Daemons.PluginHost), Is.EqualTo("g-plugins"));
    }

    [TestCase("debug", LogLevelSetting.Debug)]
    [TestCase("info", LogLevelSetting.Info)]
    [TestCase("warning", LogLevelSetting.Warning)]
    [TestCase("error", LogLevelSetting.Error)]
    public void Each_log_level_is_accepted(string text, LogLevelSetting expected)
    {
        var c = ConfigLoader.Parse($"[box]\nlog_level = \"{text}\"\n", "t.toml").Config;

        Assert.That(c.Box.LogLevel, Is.EqualTo(expected));
    }

    [Test]
    public void Keys_left_out_keep_their_defaults()
    {
        var c = ConfigLoader.Parse("[webhook]\nport = 9000\n", "t.toml").Config;

        Assert.That(c, Is.EqualTo(BoxBotConfig.Default with { Webhook = WebhookOptions.Default with { Port = 9000 } }));
    }

    [Test]
    public void Dotted_keys_and_inline_tables_are_the_same_as_sections()
    {
        var c = ConfigLoader.Parse("webhook.port = 9001\nipc = { max_connections = 5 }\n", "t.toml").Config;

        Assert.That(c.Webhook.Port, Is.EqualTo(9001));
        Assert.That(c.Ipc.MaxConnections, Is.EqualTo(5));
    }

    [Test]
    public void Flags_are_applied_with_with_and_leave_the_defaults_untouched()
    {
        var loaded = ConfigLoader.Parse("[webhook]\nport = 9000\n", "t.toml").Config;

        var withFlags = loaded with { Webhook = loaded.Webhook with { Port = 0 }, Box = loaded.Box with { LogLevel = LogLevelSetting.Debug } };

        Assert.That(withFlags.Webhook.Port, Is.EqualTo(0));
        Assert.That(withFlags.Box.LogLevel, Is.EqualTo(LogLevelSetting.Debug));
        Assert.That(loaded.Webhook.Port, Is.EqualTo(9000));
        Assert.That(BoxBotConfig.Default.Webhook.Port, Is.EqualTo(8443));
        Assert.That(BoxBotConfig.Default.Box.LogLevel, Is.EqualTo(LogLevelSetting.Info));
    }

    [Test]
    public void The_file_model_starts_from_the_runtime_defaults()
    {
        // The file model's initial values are what a key left out means; they must not drift from Default.
        var text = TomlSerializer.Serialize(new ConfigFile(), ConfigFileContext.Default.ConfigFile);

        Assert.That(ConfigLoader.Parse(text, "model.toml").Config, Is.EqualTo(BoxBotConfig.Default));
    }

    [Test]
    public void Asking_for_the_socket_group_of_an_unknown_daemon_is_an_error()
    {
        var stranger = new DaemonInfo("stranger", "boxbot-stranger", "s.sock", "s", "s");

        Assert.Throws<ArgumentException>(() => BoxBotConfig.Default.SocketGroupFor(stranger));
    }
}
