using BoxBot.Contracts;

namespace BoxBot.Ipc.Tests;

public sealed class PolicyTests : ServerTestBase
{
    private static PeerCredentials Peer(uint uid, uint gid, params uint[] groups) => new(1234, uid, gid, [gid, .. groups]);

    [Test]
    public void Root_allows_uid_0_only()
    {
        var policy = CallerPolicy.Of(Principal.Root);

        Assert.That(policy.Allows(Peer(0, 0)), Is.True);
        Assert.That(policy.Allows(Peer(1000, 0)), Is.False, "gid 0 is not root");
    }

    [Test]
    public void Gid_matches_primary_and_supplementary_groups_but_not_others()
    {
        var policy = CallerPolicy.Of(Principal.Gid(500));

        Assert.That(policy.Allows(Peer(1000, 500)), Is.True);
        Assert.That(policy.Allows(Peer(1000, 1000, 20, 500)), Is.True);
        Assert.That(policy.Allows(Peer(1000, 1000, 20, 501)), Is.False);
    }

    [Test]
    public void Names_resolve_through_nss()
    {
        Assert.That(CallerPolicy.Of(Principal.User("root")).Allows(Peer(0, 0)), Is.True);
        Assert.That(CallerPolicy.Of(Principal.Group("root")).Allows(Peer(1000, 1000, 0)), Is.True);
        Assert.That(CallerPolicy.Of(Principal.User("root")).Allows(Peer(1000, 0)), Is.False);
    }

    [Test]
    public void Unknown_names_match_nobody_and_say_so()
    {
        var policy = CallerPolicy.Of(Principal.Root, Principal.Self, Principal.Group("bbtest-no-such-group"), Principal.User("bbtest-no-such-user"));

        Assert.That(policy.Allows(Peer(4242, 4242, 4242)), Is.False);
        Assert.That(policy.ToString(), Is.EqualTo("root, self, group bbtest-no-such-group (unknown), user bbtest-no-such-user (unknown)"));
    }

    [Test]
    public void Peer_without_a_group_list_is_judged_on_its_primary_gid()
    {
        var bare = new PeerCredentials(1, 1000, 500, null!);

        Assert.That(CallerPolicy.Of(Principal.Gid(500)).Allows(bare), Is.True);
        Assert.That(CallerPolicy.Of(Principal.Gid(20)).Allows(bare), Is.False);
        Assert.That(CallerPolicy.Of(Principal.Gid(20)).Allows(default), Is.False);
    }

    [Test]
    public void Empty_policy_is_refused()
    {
        Assert.Throws<ArgumentException>(() => CallerPolicy.Of());
    }

    [Test]
    public async Task Caller_outside_the_policy_gets_unauthorized_with_a_log_line_and_the_connection_stays_open()
    {
        StartServer(map: s => s.Map("sandbox.run", CallerPolicy.Of(Principal.Uid(54321)), TestJson.Default.TextParams, TestJson.Default.TextResult,
            (p, _, _) => ValueTask.FromResult(new TextResult(p.Text))));
        var client = await ConnectAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.CallAsync("sandbox.run", new TextParams("rm -rf /"), TestJson.Default.TextParams, TestJson.Default.TextResult));

        var uid = Environment.IsPrivilegedProcess ? 0u : uint.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Uid:")).Split('\t')[2]);
        Assert.That(ex!.Code, Is.EqualTo(RpcErrorCodes.Unauthorized));
        Assert.That(ex.Message, Is.EqualTo($"caller uid {uid} may not call sandbox.run"));
        var refusal = Logger.WithEvent(IpcLogEvents.CallRefused).Single();
        Assert.That(refusal.Message, Does.Contain("sandbox.run").And.Contain($"uid {uid}").And.Contain($"pid {Environment.ProcessId}"));
        Assert.That(refusal.Message, Does.Not.Contain("rm -rf"), "params are never logged");
        Assert.That(await AddAsync(client, 1, 1), Is.EqualTo(new SumResult(2)));
    }
}
