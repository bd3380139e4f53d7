using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent.Tests;

public class ApprovalStoreTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private TempFolder _dir = null!;
    private ManualClock _clock = null!;
    private List<Approval> _ended = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempFolder();
        _clock = new ManualClock(Start);
        _ended = [];
    }

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private string StatePath => _dir.File("approvals.json");

    private ApprovalStore Open() => new(StatePath, _clock, _ended.Add);

    private static Approval Request(ApprovalStore store, string name = "demo") =>
        store.Add("uid 1000", "for the weather script", [name + "==1.0"], [Packages.Wheel(name, "1.0"), Packages.Wheel("dep", "2.0", requested: false, hash: 'b')]);

    [Test]
    public void A_pending_approval_survives_a_restart_exactly_as_resolved_in_a_file_only_the_owner_can_read()
    {
        var added = Request(Open());

        var reopened = Open().Get(added.Id);

        Assert.That(reopened.State, Is.EqualTo(ApprovalStates.Pending));
        Assert.That(reopened.Packages, Is.EqualTo(added.Packages));
        Assert.That(reopened.Specs, Is.EqualTo(new[] { "demo==1.0" }));
        Assert.That((reopened.RequestedBy, reopened.Reason, reopened.CreatedAt, reopened.ExpiresAt),
            Is.EqualTo(("uid 1000", "for the weather script", Start, Start + TimeSpan.FromHours(24))));
        Assert.That(File.GetUnixFileMode(StatePath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(Directory.GetFiles(_dir.Path), Has.Length.EqualTo(1), "no temporary files are left behind");
        Assert.That(added.Id, Does.Match("^[0-9a-f]{8}$"));
    }

    [Test]
    public void A_pending_approval_expires_after_24_hours_and_can_no_longer_be_approved()
    {
        var store = Open();
        var a = Request(store);
        _clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        Assert.That(store.Get(a.Id).State, Is.EqualTo(ApprovalStates.Pending));

        _clock.Advance(TimeSpan.FromSeconds(1));

        var e = Assert.Throws<RpcException>(() => store.BeginInstall(a.Id, "uid 0"))!;
        Assert.That(e.Message, Does.Contain("expired"));
        Assert.That(store.Get(a.Id).State, Is.EqualTo(ApprovalStates.Expired));
        Assert.That(Open().Get(a.Id).State, Is.EqualTo(ApprovalStates.Expired), "the expiry is saved");
        Assert.That(_ended.Select(x => (x.Id, x.State)), Is.EqualTo(new[] { (a.Id, ApprovalStates.Expired) }), "reported once, for the audit log");
        Assert.That(store.List(all: false), Is.Empty);
    }

    [Test]
    public void At_most_16_approvals_wait_at_once_and_a_decision_makes_room()
    {
        var store = Open();
        var pending = Enumerable.Range(0, ApprovalStore.MaxPending).Select(i => Request(store, "p" + i)).ToList();

        var full = Assert.Throws<RpcException>(() => Request(store, "one-more"))!;
        var early = Assert.Throws<RpcException>(store.EnsureRoom)!;

        Assert.That((full.Code, early.Code), Is.EqualTo((RpcErrorCodes.Busy, RpcErrorCodes.Busy)));
        Assert.That(full.Message, Does.Contain("approve or deny some first"));
        store.Deny(pending[0].Id, "uid 0");
        Assert.That(Request(store, "one-more").State, Is.EqualTo(ApprovalStates.Pending));
        Assert.That(store.PendingCount, Is.EqualTo(ApprovalStore.MaxPending));
    }

    [Test]
    public void An_approval_is_decided_once_approve_after_deny_and_deny_after_approve_are_refused()
    {
        var store = Open();
        var denied = Request(store, "a");
        var approved = Request(store, "b");

        store.Deny(denied.Id, "uid 0");
        var installing = store.BeginInstall(approved.Id, "uid 1001");

        Assert.That(installing.DecidedBy, Is.EqualTo("uid 1001"));
        Assert.That(Assert.Throws<RpcException>(() => store.BeginInstall(denied.Id, "uid 0"))!.Message, Does.Contain("is denied (by uid 0), not pending"));
        Assert.That(Assert.Throws<RpcException>(() => store.Deny(approved.Id, "uid 0"))!.Message, Does.Contain("is installing"));
        Assert.That(Assert.Throws<RpcException>(() => store.BeginInstall(approved.Id, "uid 0"))!.Code, Is.EqualTo(RpcErrorCodes.Refused), "no second install");
        Assert.That(store.Finish(approved.Id, null).State, Is.EqualTo(ApprovalStates.Installed));
        Assert.Throws<InvalidOperationException>(() => store.Finish(approved.Id, "again"));
        Assert.Throws<InvalidOperationException>(() => store.Finish(denied.Id, null), "a denied approval never becomes installed");
        Assert.That(Open().List(all: true).Select(a => a.State), Is.EqualTo(new[] { ApprovalStates.Denied, ApprovalStates.Installed }));
    }

    [Test]
    public void A_failed_install_keeps_its_reason()
    {
        var store = Open();
        var a = Request(store);
        store.BeginInstall(a.Id, "uid 0");

        var failed = store.Finish(a.Id, "hash mismatch");

        Assert.That((failed.State, failed.Error), Is.EqualTo((ApprovalStates.Failed, "hash mismatch")));
        Assert.Throws<RpcException>(() => store.BeginInstall(a.Id, "uid 0"), "a failed approval is not retried; request again");
    }

    [TestCase("00000000", RpcErrorCodes.NotFound)]
    [TestCase("ZZZZZZZZ", RpcErrorCodes.InvalidParams)]
    [TestCase("../../etc", RpcErrorCodes.InvalidParams)]
    [TestCase("", RpcErrorCodes.InvalidParams)]
    public void Unknown_ids_are_not_found_and_malformed_ones_are_invalid_params(string id, int code)
    {
        var store = Open();
        Request(store);

        Assert.That(Assert.Throws<RpcException>(() => store.BeginInstall(id, "uid 0"))!.Code, Is.EqualTo(code));
        Assert.That(Assert.Throws<RpcException>(() => store.Deny(id, "uid 0"))!.Code, Is.EqualTo(code));
        Assert.That(Assert.Throws<RpcException>(() => store.Get(id))!.Code, Is.EqualTo(code));
    }

    [Test]
    public void An_install_cut_short_by_a_restart_ends_as_failed_and_is_reported()
    {
        var store = Open();
        var a = Request(store);
        store.BeginInstall(a.Id, "uid 0");

        var restarted = Open();

        var after = restarted.Get(a.Id);
        Assert.That(after.State, Is.EqualTo(ApprovalStates.Failed));
        Assert.That(after.Error, Does.Contain("stopped during the install"));
        Assert.That(_ended.Select(x => x.Id), Is.EqualTo(new[] { a.Id }));
    }

    [Test]
    public void Pending_approvals_are_listed_by_default_and_decided_ones_only_with_all()
    {
        var store = Open();
        var first = Request(store, "a");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var second = Request(store, "b");
        store.Deny(first.Id, "uid 0");

        Assert.That(store.List(all: false).Select(a => a.Id), Is.EqualTo(new[] { second.Id }));
        Assert.That(store.List(all: true).Select(a => a.Id), Is.EqualTo(new[] { first.Id, second.Id }));
    }

    [Test]
    public void Only_the_newest_decided_approvals_are_kept_and_pending_ones_never_dropped()
    {
        var store = Open();
        var keep = Request(store, "pending-one");
        for (var i = 0; i < ApprovalStore.MaxKept + 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            store.Deny(Request(store, "p" + i).Id, "uid 0");
        }

        var all = Open().List(all: true);

        Assert.That(all, Has.Count.EqualTo(ApprovalStore.MaxKept));
        Assert.That(all.Select(a => a.Id), Does.Contain(keep.Id));
        Assert.That(all.Select(a => a.Specs[0]), Does.Not.Contain("p0==1.0"), "the oldest decided ones go first");
    }

    [Test]
    public void A_state_file_others_could_change_is_refused_at_start()
    {
        Request(Open());
        File.SetUnixFileMode(StatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);

        var e = Assert.Throws<IOException>(() => Open())!;

        Assert.That(e.Message, Does.Contain("chmod 600"));
    }

    [TestCase("demo --index-url http://evil.example/simple")]
    [TestCase("demo\n-r /etc/passwd")]
    [TestCase("-r/etc/passwd")]
    public void A_state_file_edited_to_smuggle_pip_options_into_the_requirements_is_refused_at_start(string name)
    {
        Request(Open());
        var text = File.ReadAllText(StatePath).Replace("\"name\": \"demo\"", "\"name\": " + System.Text.Json.JsonSerializer.Serialize(name), StringComparison.Ordinal);
        Assert.That(text, Does.Not.Contain("\"name\": \"demo\""), "the edit took");
        File.WriteAllText(StatePath, text);

        Assert.Throws<IOException>(() => Open());
    }

    [Test]
    public void A_resolved_package_that_is_not_a_plain_name_version_and_hash_is_never_stored()
    {
        var store = Open();
        var bad = Packages.Wheel("demo", "1.0") with { Sha256 = "not-a-hash" };

        Assert.Throws<ArgumentException>(() => store.Add("uid 0", null, ["demo"], [bad]));
        Assert.That(store.List(all: true), Is.Empty);
    }
}
