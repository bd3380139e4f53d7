namespace BoxBot.Config.Tests;

public class ConfigErrorTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private ConfigException LoadFails(string toml, out string path)
    {
        path = _dir.Write("boxbot.toml", toml);
        var file = path;
        return Assert.Throws<ConfigException>(() => ConfigLoader.Load(file))!;
    }

    private ConfigException LoadFails(string toml) => LoadFails(toml, out _);

    [Test]
    public void An_unknown_key_names_file_line_column_the_full_key_and_the_known_keys()
    {
        var ex = LoadFails("[whatsapp]\napi_version = \"v1.0\"\nphone_id = 2\n", out var path);

        Assert.That(ex.Errors, Has.Count.EqualTo(1));
        Assert.That(ex.Message, Is.EqualTo(
            $"{path}:3:1: whatsapp.phone_id: unknown key (known keys in [whatsapp]: api_version, graph_url, phone_number_id)"));
        Assert.That(ex.Errors[0], Is.EqualTo(new ConfigError(path, 3, 1, "whatsapp.phone_id",
            "unknown key (known keys in [whatsapp]: api_version, graph_url, phone_number_id)")));
    }

    [Test]
    public void An_unknown_section_names_file_line_column_and_the_known_sections()
    {
        var ex = LoadFails("\n[webhok]\nport = 1\n", out var path);

        Assert.That(ex.Message, Is.EqualTo(
            $"{path}:2:1: webhok: unknown section (known sections: agent, agent.llm, box, ipc, mesh, mesh.policy, mesh.policy.admin, mesh.policy.device, mesh.policy.user, perception, plugin-host, plugins, sandbox, webhook, whatsapp)"));
    }

    [Test]
    public void A_key_outside_any_section_is_unknown()
    {
        var ex = LoadFails("port = 1\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:1:1: port: unknown key"));
    }

    [TestCase("[webhook.tls]\nx = 1\n", "webhook.tls: unknown key")]
    [TestCase("[webhook]\nlisten.x = 1\n", "webhook.listen: unknown key")]
    [TestCase("[webhook.port]\nx = 1\n", "webhook.port: expected an integer, not a table")]
    [TestCase("[[box]]\nlog_level = \"info\"\n", "box: must be a single table [box], not an array of tables [[box]]")]
    [TestCase("box = 1\n", "box: must be a table [box], not an integer")]
    [TestCase("[sandbox]\nsocket_group = { name = \"x\" }\n", "sandbox.socket_group: expected a string, not a table")]
    public void A_key_in_the_wrong_shape_is_an_error(string toml, string expected)
    {
        var ex = LoadFails(toml, out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:"));
        Assert.That(ex.Message, Does.Contain(expected));
    }

    [Test]
    public void A_wrong_type_names_the_value_position_and_both_types()
    {
        var ex = LoadFails("[webhook]\nport = \"8443\"\n", out var path);

        Assert.That(ex.Message, Is.EqualTo($"{path}:2:8: webhook.port: expected an integer, not a string"));
    }

    [TestCase("[ipc]\nmax_connections = 1.5\n", "ipc.max_connections: expected an integer, not a float")]
    [TestCase("[box]\nadmin_group = true\n", "box.admin_group: expected a string, not a boolean")]
    [TestCase("[mesh]\nurl = [\"nats://a\"]\n", "mesh.url: expected a string, not an array")]
    [TestCase("[mesh.policy.admin]\nallow = \"lamp.*\"\n", "mesh.policy.admin.allow: expected an array, not a string")]
    [TestCase("[box]\nlog_level = 2\n", "box.log_level: expected a string, not an integer")]
    public void Each_wrong_type_is_reported(string toml, string expected)
    {
        Assert.That(LoadFails(toml).Message, Does.Contain(expected));
    }

    [TestCase("ipc", "request_timeout_ms", "99", "must be between 100 and 600000, got 99")]
    [TestCase("ipc", "request_timeout_ms", "600001", "must be between 100 and 600000, got 600001")]
    [TestCase("ipc", "max_connections", "0", "must be between 1 and 1024, got 0")]
    [TestCase("ipc", "max_connections", "1025", "must be between 1 and 1024, got 1025")]
    [TestCase("webhook", "port", "-1", "must be between 0 and 65535 (0 picks a free port), got -1")]
    [TestCase("webhook", "port", "65536", "must be between 0 and 65535 (0 picks a free port), got 65536")]
    [TestCase("webhook", "port", "99999999999", "must be between 0 and 65535 (0 picks a free port), got 99999999999")]
    [TestCase("mesh", "calls_per_caller_per_minute", "0", "must be between 1 and 60000, got 0")]
    [TestCase("mesh", "calls_per_minute", "600001", "must be between 1 and 600000, got 600001")]
    [TestCase("webhook", "max_body_bytes", "1023", "must be between 1024 and 16777216, got 1023")]
    [TestCase("webhook", "max_connections", "0", "must be between 1 and 10000, got 0")]
    [TestCase("webhook", "max_header_bytes", "65537", "must be between 1024 and 65536, got 65537")]
    [TestCase("webhook", "header_timeout_s", "0", "must be between 1 and 300, got 0")]
    [TestCase("webhook", "body_timeout_s", "301", "must be between 1 and 300, got 301")]
    [TestCase("webhook", "min_body_bytes_per_s", "0", "must be between 1 and 1048576, got 0")]
    [TestCase("webhook", "sender_messages_per_minute", "0", "must be between 1 and 1000000, got 0")]
    [TestCase("webhook", "global_messages_per_minute", "0", "must be between 1 and 10000000, got 0")]
    [TestCase("whatsapp", "api_version", "\"23.0\"", "must be a Graph API version such as v23.0, got \"23.0\"")]
    [TestCase("whatsapp", "phone_number_id", "\"12-34\"", "must be \"\" or the phone number id from the Meta app dashboard (digits), got \"12-34\"")]
    [TestCase("whatsapp", "graph_url", "\"http://graph.facebook.com\"", "must use https:// (plain http:// only to a loopback address, for a test server), got \"http://graph.facebook.com\"")]
    [TestCase("whatsapp", "graph_url", "\"graph.facebook.com\"", "must be an https:// URL such as https://graph.facebook.com, got \"graph.facebook.com\"")]
    [TestCase("box", "log_level", "\"verbose\"", "must be one of debug, info, warning, error, got \"verbose\"")]
    [TestCase("box", "log_level", "\"INFO\"", "must be one of debug, info, warning, error, got \"INFO\"")]
    public void An_out_of_range_value_names_the_key_at_the_value(string section, string key, string value, string message)
    {
        var ex = LoadFails($"# comment\n[{section}]\n{key} = {value}\n", out var path);

        Assert.That(ex.Message, Is.EqualTo($"{path}:3:{key.Length + 4}: {section}.{key}: {message}"));
    }

    [TestCase("100")]
    [TestCase("600000")]
    public void The_ends_of_a_range_are_accepted(string value)
    {
        var c = ConfigLoader.Parse($"[ipc]\nrequest_timeout_ms = {value}\n", "t.toml").Config;

        Assert.That(c.Ipc.RequestTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(int.Parse(value))));
    }

    [TestCase("127.1")]
    [TestCase("2130706433")]
    [TestCase("1.2.3.4.5")]
    [TestCase("")]
    [TestCase("host name")]
    [TestCase("http://localhost")]
    [TestCase("localhost:8443")]
    public void A_listen_address_that_is_not_an_IP_address_or_host_name_is_refused(string value)
    {
        var ex = LoadFails($"[webhook]\nlisten_address = \"{value}\"\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:2:18: webhook.listen_address: must be an IP address such as 127.0.0.1 or ::1, or a host name"));
    }

    // Whether the address is loopback is the webhook's bind guard to decide when it starts (a name resolves then).
    [TestCase("0.0.0.0")]
    [TestCase("::")]
    [TestCase("192.168.1.20")]
    [TestCase("localhost")]
    [TestCase("box.example.org")]
    public void A_listen_address_that_is_an_IP_address_or_host_name_is_accepted(string value)
    {
        var c = ConfigLoader.Parse($"[webhook]\nlisten_address = \"{value}\"\n", "t.toml").Config;

        Assert.That(c.Webhook.ListenAddress.ToString(), Is.EqualTo(value));
    }

    [TestCase("http://mesh.example.org:4222")]
    [TestCase("mesh.example.org:4222")]
    [TestCase("nats:relative")]
    [TestCase("/var/run/nats.sock")]
    [TestCase("nats://")]
    public void A_mesh_url_that_is_not_an_absolute_nats_or_tls_url_is_refused(string value)
    {
        var ex = LoadFails($"[mesh]\nurl = \"{value}\"\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:2:7: mesh.url: must be \"\" (the local broker, or the portal credential's URL) or an absolute nats:// or tls:// URL"));
    }

    [Test]
    public void A_mesh_url_with_a_password_is_refused_without_echoing_it()
    {
        var ex = LoadFails("[mesh]\nurl = \"nats://box:hunter2@mesh.example.org\"\n");

        Assert.That(ex.Message, Does.Contain("mesh.url: must not contain a user or password"));
        Assert.That(ex.Message, Does.Not.Contain("hunter2"));
    }

    [TestCase("nats://127.0.0.1:4222")]
    [TestCase("tls://mesh.example.org")]
    public void A_nats_or_tls_mesh_url_is_accepted(string value)
    {
        var c = ConfigLoader.Parse($"[mesh]\nurl = \"{value}\"\n", "t.toml").Config;

        Assert.That(c.Mesh.Url, Is.EqualTo(new Uri(value)));
    }

    [Test]
    public void Plugins_settings_are_read_and_a_host_that_is_not_a_host_name_is_refused()
    {
        var c = ConfigLoader.Parse("[plugins]\nmax_plugins = 4\nallowed_hosts = [\"Plugins.Example.org\"]\nrequire_digest = false\n", "t.toml").Config;
        Assert.That((c.Plugins.MaxPlugins, c.Plugins.AllowedHosts.Single(), c.Plugins.RequireDigest), Is.EqualTo((4, "plugins.example.org", false)));

        foreach (var bad in new[] { "https://plugins.example.org", "plugins.example.org:443", "*.example.org", "" })
        {
            var ex = LoadFails($"[plugins]\nallowed_hosts = [\"{bad}\"]\n");
            Assert.That(ex.Message, Does.Contain($"plugins.allowed_hosts: holds \"{bad}\": each entry is a host name"), bad);
        }
        Assert.That(LoadFails("[plugins]\nmax_plugins = 0\n").Message, Does.Contain("plugins.max_plugins"));
    }

    [TestCase("agent", "socket_group", "Boxbot")]
    [TestCase("sandbox", "socket_group", "1group")]
    [TestCase("webhook", "socket_group", "box bot")]
    [TestCase("perception", "socket_group", "a234567890123456789012345678901234")]
    [TestCase("plugin-host", "socket_group", "../etc")]
    [TestCase("box", "admin_group", "")]
    [TestCase("box", "admin_group", "admins!")]
    public void A_group_that_is_not_a_unix_group_name_is_refused(string section, string key, string value)
    {
        var ex = LoadFails($"[{section}]\n{key} = \"{value}\"\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:2:{key.Length + 4}: {section}.{key}: must be a Unix group name"));
    }

    [TestCase("_daemons")]
    [TestCase("boxbot-clients")]
    [TestCase("a2345678901234567890123456789012")]
    public void A_valid_group_name_is_accepted(string value)
    {
        var c = ConfigLoader.Parse($"[agent]\nsocket_group = \"{value}\"\n", "t.toml").Config;

        Assert.That(c.Agent.SocketGroup, Is.EqualTo(value));
    }

    [TestCase("allow = [\"lamp\"]", "mesh.policy.user.allow: holds \"lamp\": each rule is DEVICE.FUNCTION or DEVICE.*")]
    [TestCase("ask = [\"la.mp*\"]", "mesh.policy.user.ask: holds \"la.mp*\"")]
    [TestCase("deny = [\"*.get_status\"]", "mesh.policy.user.deny: holds \"*.get_status\"")]
    public void A_mesh_policy_rule_that_is_not_device_dot_function_is_refused(string line, string message)
    {
        var ex = LoadFails($"[mesh.policy.user]\n{line}\n");

        Assert.That(ex.Message, Does.Contain(message));
    }

    [TestCase("broker = \"cloud\"", "mesh.broker: must be local (the box's own broker), remote (mesh.url) or off")]
    [TestCase("box_id = \"my.box\"", "mesh.box_id: must be")]
    [TestCase("tenant = \"a b\"", "mesh.tenant: must be a tenant id")]
    public void A_mesh_setting_out_of_its_rules_is_refused_naming_it(string line, string message)
    {
        var ex = LoadFails($"[mesh]\n{line}\n");

        Assert.That(ex.Message, Does.Contain(message));
    }

    [Test]
    public void All_errors_in_a_file_are_reported_at_once_in_file_order()
    {
        var ex = LoadFails("""
            [box]
            log_level = "loud"
            [ipc]
            max_connections = 0
            retries = 3
            [webhook]
            listen_address = "local host"
            [mesh]
            url = "http://x"
            [extras]
            x = 1
            """, out var path);

        Assert.That(ex.Errors.Select(e => (e.Line, e.Key)), Is.EqualTo(new[]
        {
            (2, "box.log_level"),
            (4, "ipc.max_connections"),
            (5, "ipc.retries"),
            (7, "webhook.listen_address"),
            (9, "mesh.url"),
            (10, "extras"),
        }));
        Assert.That(ex.Errors.Select(e => e.File), Is.All.EqualTo(path));
        Assert.That(ex.Message.Split('\n'), Has.Length.EqualTo(6));
    }

    [Test]
    public void A_wrong_type_does_not_hide_unknown_keys_or_bad_values_elsewhere()
    {
        var ex = LoadFails("""
            [webhook]
            port = "x"
            listen_address = "local host"
            [box]
            level = "info"
            box = 3
            [ipc]
            max_connections = 2000
            [[agent]]
            socket_group = ""
            [perception]
            socket_group = { name = "video" }
            """);

        Assert.That(ex.Errors.Select(e => e.Key), Is.EqualTo(new[]
        {
            "webhook.port", "webhook.listen_address", "box.level", "box.box", "ipc.max_connections", "agent", "perception.socket_group",
        }));
    }

    [Test]
    public void A_toml_syntax_error_reports_line_and_column()
    {
        var ex = LoadFails("[box]\nlog_level = \n", out var path);

        Assert.That(ex.Errors[0].Line, Is.EqualTo(2));
        Assert.That(ex.Errors[0].Column, Is.EqualTo(13));
        Assert.That(ex.Message, Does.StartWith($"{path}:2:13: "));
    }

    [Test]
    public void A_key_set_twice_is_an_error_with_its_line()
    {
        var ex = LoadFails("[webhook]\nport = 1\nport = 2\n", out var path);

        Assert.That(ex.Message, Does.StartWith($"{path}:3:1: "));
        Assert.That(ex.Message, Does.Contain("webhook.port"));
    }

    [Test]
    public void Errors_without_a_position_or_key_leave_those_parts_out()
    {
        Assert.That(new ConfigError("f.toml", 0, 0, "", "gone").ToString(), Is.EqualTo("f.toml: gone"));
        Assert.That(new ConfigError("f.toml", 4, 2, "", "bad").ToString(), Is.EqualTo("f.toml:4:2: bad"));
        Assert.That(new ConfigError("f.toml", 4, 2, "a.b", "bad").ToString(), Is.EqualTo("f.toml:4:2: a.b: bad"));
    }
}
