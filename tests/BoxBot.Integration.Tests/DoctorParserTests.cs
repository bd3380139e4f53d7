using System.Net;
using BoxBot.Cli;
using BoxBot.Cli.Doctor;
using BoxBot.Config;
using BoxBot.Contracts;
using BoxBot.Linux;

namespace BoxBot.Integration.Tests;

/// <summary>
/// boxbot doctor's parsers and verdicts, fed sample text of the kind systemctl, sshd, getent and /proc print: no
/// process, no file. Each test shows a check catching the defect it exists for.
/// </summary>
public class DoctorParserTests
{
    private const string HealthyAgentShow = """
        ActiveState=active
        SubState=running
        MainPID=812
        User=boxbot
        NoNewPrivileges=yes
        ProtectSystem=strict
        ProtectHome=yes
        PrivateTmp=yes
        MemoryDenyWriteExecute=yes
        SystemCallArchitectures=native
        CapabilityBoundingSet=
        LoadState=loaded
        ConditionResult=yes
        """;

    private const string ActiveSocket = "ActiveState=active\nSubState=listening\nLoadState=loaded\nConditionResult=yes\n";

    private const string HealthyProcStatus = """
        Name:	boxbot-agent
        Umask:	0077
        State:	S (sleeping)
        Pid:	812
        Uid:	998	998	998	998
        Gid:	998	998	998	998
        NoNewPrivs:	1
        Seccomp:	2
        Seccomp_filters:	3
        """;

    private static UnitExpectation Agent => UnitsCheck.Units.Single(u => u.Daemon == Daemons.Agent);

    private static IReadOnlyList<Finding> EvaluateAgent(string show, string procStatus = HealthyProcStatus, uint uid = 998) =>
        UnitsCheck.Evaluate(Agent, SystemdText.ParseShow(show), SystemdText.ParseShow(ActiveSocket), ProcStatus.Parse(procStatus), null, uid);

    [Test]
    public void Systemctl_show_is_parsed_into_properties_keeping_empty_values_and_equals_signs()
    {
        var p = SystemdText.ParseShow("User=boxbot\nCapabilityBoundingSet=\nEnvironment=A=b C=d\r\nnot a property\n");

        Assert.That(p["User"], Is.EqualTo("boxbot"));
        Assert.That(p["CapabilityBoundingSet"], Is.EqualTo(""));
        Assert.That(p["Environment"], Is.EqualTo("A=b C=d"));
        Assert.That(p, Has.Count.EqualTo(3));
    }

    [Test]
    public void A_healthy_agent_unit_and_process_pass_every_unit_check()
    {
        var findings = EvaluateAgent(HealthyAgentShow);

        Assert.That(findings.Select(f => f.Status), Is.All.EqualTo(FindingStatus.Ok), string.Join("\n", findings));
        Assert.That(findings.Select(f => f.Id), Is.EquivalentTo(new[]
        {
            "units.boxbot-agent.service.state", "units.boxbot-agent.service.hardening", "units.boxbot-agent.service.process",
        }));
    }

    [Test]
    public void A_drop_in_that_weakens_the_agent_unit_fails_naming_each_property_and_how_to_see_drop_ins()
    {
        var weakened = HealthyAgentShow
            .Replace("NoNewPrivileges=yes", "NoNewPrivileges=no", StringComparison.Ordinal)
            .Replace("ProtectSystem=strict", "ProtectSystem=full", StringComparison.Ordinal)
            .Replace("User=boxbot", "User=root", StringComparison.Ordinal)
            .Replace("CapabilityBoundingSet=", "CapabilityBoundingSet=cap_net_admin cap_sys_admin", StringComparison.Ordinal);

        var hardening = EvaluateAgent(weakened).Single(f => f.Id.EndsWith(".hardening", StringComparison.Ordinal));

        Assert.That(hardening.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(hardening.Message, Does.Contain("NoNewPrivileges=no").And.Contain("ProtectSystem=full").And.Contain("User=root")
            .And.Contain("CapabilityBoundingSet=cap_net_admin").And.Contain("systemctl cat boxbot-agent.service"));
        Assert.That(hardening.Fix, Does.Contain("apt-get install --reinstall boxbot"));
    }

    [Test]
    public void The_sandbox_unit_may_no_longer_keep_capabilities_or_run_as_root()
    {
        var sandbox = UnitsCheck.Units.Single(u => u.Daemon == Daemons.Sandbox);
        var show = HealthyAgentShow.Replace("User=boxbot", "User=", StringComparison.Ordinal)
            .Replace("CapabilityBoundingSet=", "CapabilityBoundingSet=cap_setuid cap_setgid cap_sys_admin", StringComparison.Ordinal);

        var findings = UnitsCheck.Evaluate(sandbox, SystemdText.ParseShow(show), SystemdText.ParseShow(ActiveSocket),
            ProcStatus.Parse(HealthyProcStatus.Replace("998\t998\t998\t998", "0\t0\t0\t0", StringComparison.Ordinal)), null, 0);

        Assert.That(findings.Single(f => f.Id.EndsWith(".hardening", StringComparison.Ordinal)).Status, Is.EqualTo(FindingStatus.Fail), string.Join("\n", findings));
    }

    [Test]
    public void A_process_without_its_seccomp_filter_or_under_another_uid_fails_with_a_restart()
    {
        var unfiltered = HealthyProcStatus.Replace("Seccomp:\t2", "Seccomp:\t0", StringComparison.Ordinal).Replace("NoNewPrivs:\t1", "NoNewPrivs:\t0", StringComparison.Ordinal);

        var process = EvaluateAgent(HealthyAgentShow, unfiltered).Single(f => f.Id.EndsWith(".process", StringComparison.Ordinal));
        var otherUid = EvaluateAgent(HealthyAgentShow, HealthyProcStatus, uid: 997).Single(f => f.Id.EndsWith(".process", StringComparison.Ordinal));

        Assert.That(process.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(process.Message, Does.Contain("Seccomp is 0").And.Contain("NoNewPrivs is not 1"));
        Assert.That(process.Fix, Is.EqualTo("sudo systemctl restart boxbot-agent.service"));
        Assert.That(otherUid.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(otherUid.Message, Does.Contain("uid 998, not boxbot (997)"));
    }

    [Test]
    public void Proc_status_gives_the_real_uid_no_new_privs_and_seccomp_mode()
    {
        var s = ProcStatus.Parse("Uid:\t1000\t0\t0\t0\nNoNewPrivs:\t0\nSeccomp:\t1\n");

        Assert.That(s, Is.EqualTo(new ProcStatus(1000, false, 1)));
        Assert.That(ProcStatus.Parse(""), Is.EqualTo(new ProcStatus(null, null, null)));
    }

    [Test]
    public void An_inactive_unit_fails_but_the_webhook_skipped_for_want_of_its_app_secret_is_only_a_warning()
    {
        var inactive = HealthyAgentShow.Replace("ActiveState=active", "ActiveState=inactive", StringComparison.Ordinal)
            .Replace("SubState=running", "SubState=dead", StringComparison.Ordinal).Replace("MainPID=812", "MainPID=0", StringComparison.Ordinal);
        var webhook = UnitsCheck.Units.Single(u => u.Daemon == Daemons.Webhook);
        var skipped = inactive.Replace("User=boxbot", "User=boxbot-webhook", StringComparison.Ordinal)
            .Replace("ConditionResult=yes", "ConditionResult=no", StringComparison.Ordinal);

        var agent = UnitsCheck.Evaluate(Agent, SystemdText.ParseShow(inactive), SystemdText.ParseShow(ActiveSocket), null, null, 998);
        var hook = UnitsCheck.Evaluate(webhook, SystemdText.ParseShow(skipped), SystemdText.ParseShow(ActiveSocket), null, null, 996);
        var hookWithSecret = UnitsCheck.Evaluate(webhook, SystemdText.ParseShow(skipped.Replace("ConditionResult=no", "ConditionResult=yes", StringComparison.Ordinal)),
            SystemdText.ParseShow(ActiveSocket), null, null, 996);

        var agentState = agent.Single(f => f.Id.EndsWith(".state", StringComparison.Ordinal));
        Assert.That(agentState.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(agentState.Fix, Is.EqualTo("sudo systemctl enable --now boxbot-agent.socket boxbot-agent.service"));
        var hookState = hook.Single(f => f.Id.EndsWith(".state", StringComparison.Ordinal));
        Assert.That(hookState.Status, Is.EqualTo(FindingStatus.Warn));
        Assert.That(hookState.Message, Does.Contain("whatsapp-app-secret"));
        Assert.That(hook.Where(f => f.Status == FindingStatus.Fail), Is.Empty);
        Assert.That(hookWithSecret.Single(f => f.Id.EndsWith(".state", StringComparison.Ordinal)).Status, Is.EqualTo(FindingStatus.Fail));
    }

    [Test]
    public void A_unit_that_is_not_installed_fails_with_a_reinstall()
    {
        var findings = UnitsCheck.Evaluate(Agent, SystemdText.ParseShow("LoadState=not-found\nActiveState=inactive\n"), SystemdText.ParseShow(ActiveSocket), null, null, 998);

        Assert.That(findings.Single().Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(findings.Single().Fix, Does.StartWith("sudo apt-get install --reinstall boxbot"));
    }

    [Test]
    public void Proc_net_tcp_lists_only_listening_sockets_with_their_addresses()
    {
        const string Tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   996        0 4242 1 0000000000000000 100 0 0 10 0
               1: 0500000A:20FB 0900000A:D431 01 00000000:00000000 00:00000000 00000000   996        0 4243 1 0000000000000000 20 4 30 10 -1
               2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 200 1 0000000000000000 100 0 0 10 0
            """;
        const string Tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000001000000:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   996        0 9 1 0000000000000000 100 0 0 10 0
               1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   996        0 9 1 0000000000000000 100 0 0 10 0
            """;

        var v4 = ProcNet.Listeners(Tcp);
        var v6 = ProcNet.Listeners(Tcp6);

        Assert.That(v4.Select(ProcNet.Format), Is.EqualTo(new[] { "127.0.0.1:8443", "0.0.0.0:22" }), "the established connection from 10.0.0.5 is not a listener");
        Assert.That(v6.Select(ProcNet.Format), Is.EqualTo(new[] { "[::1]:8443", "[::ffff:127.0.0.1]:8080" }));
        Assert.That(v6.All(l => ProcNet.IsLoopback(l.Address)), Is.True);
    }

    [Test]
    public void A_webhook_listening_on_every_address_without_allow_public_bind_fails_and_with_it_warns()
    {
        const string Tcp = "  sl  local_address rem_address   st\n   0: 00000000:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   996        0 4242 1\n";
        var listeners = ProcNet.Listeners(Tcp);

        var closed = WebhookBindCheck.Evaluate(listeners, 8443, allowPublicBind: false, webhookUp: true, "/etc/boxbot/boxbot.toml", development: false);
        var open = WebhookBindCheck.Evaluate(listeners, 8443, allowPublicBind: true, webhookUp: true, "/etc/boxbot/boxbot.toml", development: false);
        var otherPort = WebhookBindCheck.Evaluate(listeners, 9000, allowPublicBind: false, webhookUp: false, "/etc/boxbot/boxbot.toml", development: false);

        Assert.That(closed.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(closed.Message, Does.Contain("0.0.0.0:8443").And.Contain("allow_public_bind is false"));
        Assert.That(closed.Fix, Does.Contain("listen_address = \"127.0.0.1\"").And.Contain("sudo systemctl restart boxbot-webhook.service"));
        Assert.That(open.Status, Is.EqualTo(FindingStatus.Warn));
        Assert.That(open.Message, Does.Contain("public").And.Contain("firewall"));
        Assert.That(otherPort.Status, Is.EqualTo(FindingStatus.Skip));
    }

    [Test]
    public void A_webhook_on_the_ipv6_wildcard_is_public_too_and_loopback_only_passes()
    {
        var wildcard6 = ProcNet.Listeners("header\n 0: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A x\n");
        var loopback = ProcNet.Listeners("header\n 0: 0100007F:20FB 00000000:0000 0A x\n");

        Assert.That(WebhookBindCheck.Evaluate(wildcard6, 8443, false, true, "boxbot.toml", true).Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(WebhookBindCheck.Evaluate(loopback, 8443, false, true, "boxbot.toml", true).Status, Is.EqualTo(FindingStatus.Ok));
    }

    [Test]
    public void The_default_gateway_comes_from_the_up_gateway_route_to_everywhere()
    {
        const string Route = """
            Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
            wlan0	0002A8C0	00000000	0001	0	0	600	00FFFFFF	0	0	0
            wlan0	00000000	0102A8C0	0003	0	0	600	00000000	0	0	0
            """;

        Assert.That(ProcNet.DefaultGateway(Route), Is.EqualTo(IPAddress.Parse("192.168.2.1")));
        Assert.That(ProcNet.DefaultGateway(Route.Split('\n')[0] + "\nwlan0\t0002A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"), Is.Null);
        Assert.That(ProcNet.DefaultGateway(Route.Replace("0003", "0002", StringComparison.Ordinal)), Is.Null, "a route that is not up is not used");
    }

    [Test]
    public void Sshd_must_refuse_passwords_and_root_and_anything_else_fails_with_the_hardening_script()
    {
        const string Good = "port 22\npasswordauthentication no\npermitrootlogin no\npubkeyauthentication yes\n";

        var ok = SshFirewallCheck.EvaluateSshd(Good);
        var passwords = SshFirewallCheck.EvaluateSshd(Good.Replace("passwordauthentication no", "passwordauthentication yes", StringComparison.Ordinal));
        var rootByKey = SshFirewallCheck.EvaluateSshd(Good.Replace("permitrootlogin no", "permitrootlogin without-password", StringComparison.Ordinal));
        var unset = SshFirewallCheck.EvaluateSshd("port 22\n");

        Assert.That(ok.Status, Is.EqualTo(FindingStatus.Ok));
        Assert.That(passwords.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(passwords.Message, Does.Contain("passwordauthentication yes"));
        Assert.That(passwords.Fix, Is.EqualTo("sudo /usr/lib/boxbot/harden-os.sh"));
        Assert.That(rootByKey.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(rootByKey.Message, Does.Contain("permitrootlogin without-password"));
        Assert.That(unset.Status, Is.EqualTo(FindingStatus.Fail));
    }

    [Test]
    public void A_missing_nftables_table_fails_with_the_hardening_script()
    {
        var missing = SshFirewallCheck.EvaluateFirewall(new ChildResult(1, "", "Error: No such file or directory\nlist table inet boxbot\n", null), root: true);
        var present = SshFirewallCheck.EvaluateFirewall(new ChildResult(0, "table inet boxbot {\n\tchain input {\n\t}\n}\n", "", null), root: true);

        Assert.That(missing.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(missing.Fix, Is.EqualTo("sudo /usr/lib/boxbot/harden-os.sh"));
        Assert.That(present.Status, Is.EqualTo(FindingStatus.Ok));
    }

    [Test]
    public void Users_groups_and_admins_are_checked_against_what_getent_says()
    {
        var users = HealthyUsers();
        var groups = HealthyGroups();

        Assert.That(UsersCheck.Evaluate(users, groups, "boxbot-admin").Select(f => f.Status), Is.All.EqualTo(FindingStatus.Ok));

        users["boxbot-plugins"] = null;
        users["boxbot-perception"] = PasswdEntry.Parse("boxbot-perception:x:995:995::/nonexistent:/bin/bash");
        groups["boxbot"] = GroupEntry.Parse("boxbot:x:998:boxbot-perception,boxbot-plugins,boxbot-sandbox");
        groups["boxbot-admin"] = GroupEntry.Parse("boxbot-admin:x:990:ana,ben");
        users["ana"] = PasswdEntry.Parse("ana:x:1000:1000:Ana:/home/ana:/bin/bash");
        users["ben"] = PasswdEntry.Parse("ben:x:1001:998:Ben:/home/ben:/bin/bash"); // primary group boxbot: a member
        var failures = UsersCheck.Evaluate(users, groups, "boxbot-admin").Where(f => f.Status == FindingStatus.Fail).ToDictionary(f => f.Id);

        Assert.That(failures.Keys, Is.EquivalentTo(new[] { "users.boxbot-plugins", "users.boxbot-perception", "users.group.boxbot", "users.admin.ana" }));
        Assert.That(failures["users.boxbot-plugins"].Fix, Does.Contain("adduser --system").And.Contain("boxbot-plugins"));
        Assert.That(failures["users.boxbot-perception"].Fix, Is.EqualTo("sudo usermod --shell /usr/sbin/nologin boxbot-perception"));
        Assert.That(failures["users.group.boxbot"].Message, Does.Contain("boxbot-webhook"));
        Assert.That(failures["users.group.boxbot"].Fix, Is.EqualTo("sudo adduser boxbot-webhook boxbot"));
        Assert.That(failures["users.admin.ana"].Fix, Is.EqualTo("sudo adduser ana boxbot"));
    }

    [Test]
    public void The_agent_must_be_in_group_boxbot_sandbox_the_runner_in_boxbot_plugins_and_a_missing_admin_group_fails()
    {
        var groups = HealthyGroups();
        groups["boxbot-sandbox"] = GroupEntry.Parse("boxbot-sandbox:x:997:");
        groups["boxbot-plugins"] = GroupEntry.Parse("boxbot-plugins:x:994:");
        groups["boxbot-admin"] = null;

        var failures = UsersCheck.Evaluate(HealthyUsers(), groups, "boxbot-admin").Where(f => f.Status == FindingStatus.Fail).ToList();

        Assert.That(failures.Select(f => f.Fix), Is.EquivalentTo(new[] { "sudo adduser boxbot boxbot-sandbox", "sudo adduser boxbot-sandbox boxbot-plugins", "sudo addgroup --system boxbot-admin" }));
    }

    [Test]
    public void The_install_layout_lists_each_credential_as_a_root_only_file_and_the_sockets_with_their_owners()
    {
        var layout = InstallLayout.Entries(Credentials.All.Select(c => c.Name));

        foreach (var credential in Credentials.All)
        {
            var entry = layout.Single(e => e.Path == "/etc/boxbot/credentials/" + credential.Name);
            Assert.That((entry.Kind, entry.OwnerText, entry.ModeText, entry.Required), Is.EqualTo((LayoutKind.File, "root:root", "0600", true)));
        }
        var sandbox = layout.Single(e => e.Path == "/run/boxbot/sandbox.sock");
        Assert.That((sandbox.Kind, sandbox.OwnerText, sandbox.ModeText), Is.EqualTo((LayoutKind.Socket, "boxbot:boxbot-plugins", "0660")));
        Assert.That(layout.Single(e => e.Path == "/run/boxbot/webhook.sock").Required, Is.False);
        Assert.That(layout.Single(e => e.Path == "/etc/boxbot/boxbot.toml").OwnerText, Is.EqualTo("root:boxbot"));
        Assert.That(layout.Select(e => e.Path), Is.Unique);
        var egress = layout.Single(e => e.Path == "/run/boxbot/egress.sock");
        Assert.That((egress.Kind, egress.OwnerText, egress.ModeText, egress.Required), Is.EqualTo((LayoutKind.Socket, "root:boxbot-sandbox", "0660", true)));
        var brokerConfig = layout.Single(e => e.Path == "/var/lib/boxbot-nats/config");
        Assert.That((brokerConfig.OwnerText, brokerConfig.ModeText, brokerConfig.Required), Is.EqualTo(("boxbot-plugins:boxbot-nats", "02750", false)),
            "written by the plugin host, read by the broker's group, setgid so new files keep that group");
        Assert.That(layout, Has.Count.EqualTo(27 + Credentials.All.Count - 1));
    }

    [Test]
    public void A_remote_broker_off_this_machine_without_tls_or_credentials_fails_and_allow_insecure_is_a_warning()
    {
        const string Toml = "/etc/boxbot/boxbot.toml";
        var remote = MeshSettings.Default with { Broker = MeshBroker.Remote };
        Finding Exposure(MeshSettings settings, bool? credentials, Uri? running = null) =>
            MeshCheck.Evaluate(settings, credentials, running, "connected", Toml, development: false).Single(f => f.Id == "mesh.exposure");

        var plaintext = Exposure(remote with { Url = new Uri("nats://10.0.0.5:4222") }, credentials: true);
        var anonymous = Exposure(remote with { Url = new Uri("tls://hub.lan:4222") }, credentials: false);
        var accepted = Exposure(remote with { Url = new Uri("nats://10.0.0.5:4222"), AllowInsecure = true }, credentials: false);
        var good = Exposure(remote with { Url = new Uri("tls://hub.lan:4222") }, credentials: true);
        var local = Exposure(remote with { Url = new Uri("nats://127.0.0.1:4222") }, credentials: false);
        var fromPortal = Exposure(remote, credentials: true, running: new Uri("nats://portal.example.com:4222"));
        var unknown = Exposure(remote with { Url = new Uri("tls://hub.lan:4222") }, credentials: null);

        Assert.That((plaintext.Status, plaintext.Message), Is.EqualTo((FindingStatus.Fail, "mesh: " + remote.ExposureProblem(new Uri("nats://10.0.0.5:4222"), true))));
        Assert.That(plaintext.Message, Does.Contain("plaintext"));
        Assert.That(plaintext.Fix, Does.StartWith("sudoedit " + Toml));
        Assert.That(anonymous.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(anonymous.Message, Does.Contain("no mesh credentials"));
        Assert.That(accepted.Status, Is.EqualTo(FindingStatus.Warn));
        Assert.That(accepted.Message, Does.Contain("allow_insecure = true"));
        Assert.That(good.Status, Is.EqualTo(FindingStatus.Ok));
        Assert.That(local.Status, Is.EqualTo(FindingStatus.Ok), "loopback needs neither");
        Assert.That(fromPortal.Status, Is.EqualTo(FindingStatus.Fail), "no mesh.url: the URL the plugin host uses (a portal credential's) is checked");
        Assert.That((unknown.Status, unknown.Fix), Is.EqualTo((FindingStatus.Warn, "sudo boxbot doctor")));
    }

    [Test]
    public void The_mesh_check_says_where_the_household_broker_listens_and_why_the_plugin_host_is_not_on_the_mesh()
    {
        var lan = MeshCheck.Evaluate(MeshSettings.Default with { ListenLan = true }, null, null, "connected", "t", development: false);
        var down = MeshCheck.Evaluate(MeshSettings.Default, null, null, "down: the broker refused the box's user", "t", development: false);
        var silent = MeshCheck.Evaluate(MeshSettings.Default, null, null, null, "t", development: true);
        var off = MeshCheck.Evaluate(MeshSettings.Default with { Broker = MeshBroker.Off }, null, null, "off", "t", development: false);

        Assert.That(lan.Select(f => f.Status), Is.All.EqualTo(FindingStatus.Ok));
        Assert.That(lan[0].Message, Does.Contain("LAN").And.Contain("TLS only"));
        var connection = down.Single(f => f.Id == "mesh.connection");
        Assert.That((connection.Status, connection.Message), Is.EqualTo((FindingStatus.Fail, "mesh: the plugin host is not on the mesh: the broker refused the box's user")));
        Assert.That(connection.Fix, Is.EqualTo("sudo systemctl status boxbot-nats.service"));
        Assert.That(silent.Single(f => f.Id == "mesh.connection").Status, Is.EqualTo(FindingStatus.Warn));
        Assert.That(off.Select(f => f.Status), Is.EqualTo(new[] { FindingStatus.Skip }));
    }

    [Test]
    public void A_path_with_the_wrong_owner_or_a_more_open_mode_fails_with_the_exact_chown_and_chmod()
    {
        var config = InstallLayout.Entries([]).Single(e => e.Path == "/etc/boxbot/boxbot.toml");

        var good = Layout(config, Stat("640", uid: 0, gid: 998));
        var open = Layout(config, Stat("644", uid: 0, gid: 998));
        var wrongOwner = Layout(config, Stat("640", uid: 998, gid: 0));
        var tighter = Layout(config, Stat("600", uid: 0, gid: 998));
        var setuid = Layout(config, Stat("4640", uid: 0, gid: 998));

        Assert.That(good.Status, Is.EqualTo(FindingStatus.Ok));
        Assert.That(open.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(open.Message, Does.Contain("mode 0644 is more open than 0640"));
        Assert.That(open.Fix, Is.EqualTo("sudo chmod 640 /etc/boxbot/boxbot.toml"));
        Assert.That(wrongOwner.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(wrongOwner.Message, Does.Contain("owned by boxbot:root, not root:boxbot"));
        Assert.That(wrongOwner.Fix, Is.EqualTo("sudo chown root:boxbot /etc/boxbot/boxbot.toml"));
        Assert.That(tighter.Status, Is.EqualTo(FindingStatus.Warn), "tighter than the table breaks a reader but exposes nothing");
        Assert.That(setuid.Status, Is.EqualTo(FindingStatus.Fail));
    }

    [Test]
    public void A_missing_required_path_fails_a_missing_optional_one_does_not_and_a_symlink_is_never_a_directory()
    {
        var layout = InstallLayout.Entries([]);
        var state = layout.Single(e => e.Path == "/var/lib/boxbot");
        var jobs = layout.Single(e => e.Path == "/var/lib/boxbot-sandbox/jobs");
        var socket = layout.Single(e => e.Path == "/run/boxbot/agent.sock");
        var link = new FileStatus(0xA000 | 0x1FF, 998, 998, 1, 0, 0, 1, 10);

        Assert.That(Layout(state, null).Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(Layout(state, null).Fix, Is.EqualTo("sudo dpkg-reconfigure boxbot"));
        Assert.That(Layout(socket, null).Fix, Is.EqualTo("sudo systemctl enable --now boxbot-agent.socket"));
        Assert.That(Layout(jobs, null).Status, Is.EqualTo(FindingStatus.Fail), "the jobs folder is the package's now (the unit's only writable path)");
        Assert.That(Layout(state, link).Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(Layout(state, link).Message, Does.Contain("symbolic link"));
    }

    [Test]
    public void A_secret_readable_by_group_or_others_fails_with_chmod_600()
    {
        const string Path = "/etc/boxbot/credentials/llm-api-key";

        var exposed = SecretsCheck.Evaluate(Path, Stat("644", 0, 0), development: false);
        var groupOnly = SecretsCheck.Evaluate(Path, Stat("640", 0, 0), development: false);
        var fine = SecretsCheck.Evaluate(Path, Stat("600", 0, 0), development: false);
        var link = SecretsCheck.Evaluate(Path, new FileStatus(0xA000 | 0x1FF, 0, 0, 1, 0, 0, 1, 10), development: false);

        Assert.That(exposed.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(exposed.Message, Does.Contain(Path).And.Contain("0644"));
        Assert.That(exposed.Fix, Is.EqualTo("sudo chmod 600 " + Path));
        Assert.That(groupOnly.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(fine.Status, Is.EqualTo(FindingStatus.Ok));
        Assert.That(link.Status, Is.EqualTo(FindingStatus.Fail));
        // The layout leaves the group/other bits of a secret to this check, so an exposed credential is one failure, not two.
        var entry = InstallLayout.CredentialFile("llm-api-key");
        Assert.That(LayoutCheck.Evaluate(entry, Stat("644", 0, 0), Names(), true, modeCheckedBySecrets: true, development: false).Status, Is.EqualTo(FindingStatus.Ok));
    }

    [Test]
    public void The_seccomp_verdict_passes_only_a_job_killed_by_seccomp_without_the_marker()
    {
        SandboxRunResult Result(string status, string? killedBy, string stdout) => new() { JobId = "j1", Status = status, KilledBy = killedBy, Stdout = stdout, Stderr = "" };

        Assert.That(SandboxProbes.EvaluateSeccomp(Result("killed", "seccomp", "boxbot-doctor: forking\n"), null, false).Status, Is.EqualTo(FindingStatus.Ok));
        Assert.That(SandboxProbes.EvaluateSeccomp(Result("ok", null, "boxbot-doctor: forking\n"), null, false).Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(SandboxProbes.EvaluateSeccomp(Result("killed", "seccomp", SandboxProbes.ForkMarker), null, false).Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(SandboxProbes.EvaluateSeccomp(Result("killed", "timeout", ""), null, false).Status, Is.EqualTo(FindingStatus.Fail));
        var noAgent = SandboxProbes.EvaluateSeccomp(null, "the agent is not reachable", false);
        Assert.That(noAgent.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(noAgent.Message, Does.Contain("the agent is not reachable"));
    }

    [Test]
    public void A_tunnel_the_egress_proxy_opens_to_loopback_fails_on_any_box_and_a_refused_one_passes()
    {
        ProbeTarget[] targets = [new("loopback-ssh", IPAddress.Loopback, 22), new("gateway", IPAddress.Parse("192.168.2.1"), 80), new("loopback-webhook", IPAddress.Loopback, 8443)];
        var result = new SandboxRunResult
        {
            JobId = "j2",
            Status = "ok",
            Stdout = "boxbot-doctor-net loopback-ssh proxy-200\nboxbot-doctor-net gateway proxy-403\nboxbot-doctor-net loopback-webhook proxy-403\n",
            Stderr = "",
        };

        var installed = SandboxProbes.EvaluateNetwork(targets, result, null, development: false, cgroupV1: true);
        var development = SandboxProbes.EvaluateNetwork(targets, result, null, development: true, cgroupV1: false);

        Assert.That(installed.Select(f => f.Status), Is.EqualTo(new[] { FindingStatus.Fail, FindingStatus.Ok, FindingStatus.Ok }));
        Assert.That(installed[0].Message, Does.Contain("127.0.0.1:22").And.Contain("egress proxy opened a tunnel"));
        Assert.That(development[0].Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(development[0].Fix, Does.Contain("boxbot dev up"));
        var cut = SandboxProbes.EvaluateNetwork(targets, result with { Stdout = "boxbot-doctor-net loopback-ssh proxy-403\n", Status = "killed", KilledBy = "seccomp" }, null, false, false);
        Assert.That(cut.Select(f => f.Status), Is.EqualTo(new[] { FindingStatus.Ok, FindingStatus.Fail, FindingStatus.Fail }), "a target the job never tried is not a pass");
    }

    [Test]
    public void A_daemon_on_another_version_or_silent_fails_naming_it_with_a_restart()
    {
        var context = new DoctorContext
        {
            Paths = BoxPaths.Installed,
            Config = BoxBotConfig.Default,
            ProbeTimeout = TimeSpan.FromSeconds(5),
            Daemons = [],
        };
        var old = new DaemonStatusReport { Name = "agent", Up = true, Version = "0.0.9+aaaaaaaaaaaa", Pid = 1, Socket = "/run/boxbot/agent.sock" };
        var silent = new DaemonStatusReport { Name = "agent", Up = false, Socket = "/run/boxbot/agent.sock", Error = "no answer within 5 s" };

        var stale = VersionsCheck.EvaluateDaemon(Daemons.Agent, old, "0.1.0+bbbbbbbbbbbb", context);
        var down = VersionsCheck.EvaluateDaemon(Daemons.Agent, silent, "0.1.0+bbbbbbbbbbbb", context);

        Assert.That(stale.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(stale.Message, Does.Contain("0.0.9+aaaaaaaaaaaa").And.Contain("restart it"));
        Assert.That(stale.Fix, Is.EqualTo("sudo systemctl restart boxbot-agent.service"));
        Assert.That(down.Status, Is.EqualTo(FindingStatus.Fail));
        Assert.That(down.Message, Does.Contain("agent").And.Contain("/run/boxbot/agent.sock").And.Contain("no answer"));
    }

    private static Dictionary<string, PasswdEntry?> HealthyUsers() => new()
    {
        ["boxbot"] = PasswdEntry.Parse("boxbot:x:998:998::/nonexistent:/usr/sbin/nologin"),
        ["boxbot-sandbox"] = PasswdEntry.Parse("boxbot-sandbox:x:997:997::/nonexistent:/usr/sbin/nologin"),
        ["boxbot-webhook"] = PasswdEntry.Parse("boxbot-webhook:x:996:996::/nonexistent:/usr/sbin/nologin"),
        ["boxbot-perception"] = PasswdEntry.Parse("boxbot-perception:x:995:995::/nonexistent:/usr/sbin/nologin"),
        ["boxbot-plugins"] = PasswdEntry.Parse("boxbot-plugins:x:994:994::/nonexistent:/usr/sbin/nologin"),
        ["boxbot-nats"] = PasswdEntry.Parse("boxbot-nats:x:993:993::/nonexistent:/usr/sbin/nologin"),
    };

    private static Dictionary<string, GroupEntry?> HealthyGroups() => new()
    {
        ["boxbot"] = GroupEntry.Parse("boxbot:x:998:boxbot-webhook,boxbot-perception,boxbot-plugins,boxbot-sandbox"),
        ["boxbot-sandbox"] = GroupEntry.Parse("boxbot-sandbox:x:997:boxbot"),
        ["boxbot-plugins"] = GroupEntry.Parse("boxbot-plugins:x:994:boxbot-sandbox"),
        ["boxbot-admin"] = GroupEntry.Parse("boxbot-admin:x:990:"),
    };

    private static FileStatus Stat(string octalMode, uint uid, uint gid) => new(0x8000 | Convert.ToUInt32(octalMode, 8), uid, gid, 1, 0, 0, 1, 0);

    private static AccountNames Names()
    {
        var users = new Dictionary<string, uint> { ["root"] = 0, ["boxbot"] = 998 };
        var groups = new Dictionary<string, uint> { ["root"] = 0, ["boxbot"] = 998 };
        return new AccountNames(n => users.TryGetValue(n, out var u) ? u : null, n => groups.TryGetValue(n, out var g) ? g : null,
            id => users.FirstOrDefault(kv => kv.Value == id).Key, id => groups.FirstOrDefault(kv => kv.Value == id).Key);
    }

    private static Finding Layout(LayoutEntry entry, FileStatus? status) =>
        LayoutCheck.Evaluate(entry, status, Names(), checkOwner: true, modeCheckedBySecrets: false, development: false);
}
