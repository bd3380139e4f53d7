using System.Diagnostics;
using System.Globalization;
using BoxBot.Linux;

namespace BoxBot.Ipc.Tests;

/// <summary>The NSS lookups the socket policies and boxbot doctor rely on, checked against getent's answers.</summary>
public sealed class UnixAccountsTests
{
    private static string[]? Getent(string database, string key)
    {
        var info = new ProcessStartInfo("getent", [database, key]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(info)!;
        var line = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? line.Trim().Split(':') : null;
    }

    [TestCase("root")]
    [TestCase("nobody")]
    public void A_user_is_found_by_name_and_by_uid_as_getent_finds_it(string name)
    {
        var passwd = Getent("passwd", name)!;
        var uid = uint.Parse(passwd[2], CultureInfo.InvariantCulture);

        Assert.That(UnixAccounts.LookupUser(name), Is.EqualTo((uid, uint.Parse(passwd[3], CultureInfo.InvariantCulture))));
        Assert.That(UnixAccounts.LookupName(uid), Is.EqualTo(name));
    }

    [TestCase("root")]
    [TestCase("nogroup")]
    public void A_group_is_found_by_name_and_by_gid_as_getent_finds_it(string name)
    {
        var gid = uint.Parse(Getent("group", name)![2], CultureInfo.InvariantCulture);

        Assert.That(UnixAccounts.LookupGid(name), Is.EqualTo(gid));
        Assert.That(UnixAccounts.LookupGroupName(gid), Is.EqualTo(name));
    }

    [Test]
    public void Unknown_names_and_ids_are_null()
    {
        const uint unused = 3_999_999_999;
        Assume.That(Getent("passwd", unused.ToString(CultureInfo.InvariantCulture)), Is.Null);
        Assume.That(Getent("group", unused.ToString(CultureInfo.InvariantCulture)), Is.Null);

        Assert.That(UnixAccounts.LookupUser("no-such-user-bb"), Is.Null);
        Assert.That(UnixAccounts.LookupGid("no-such-group-bb"), Is.Null);
        Assert.That(UnixAccounts.LookupName(unused), Is.Null);
        Assert.That(UnixAccounts.LookupGroupName(unused), Is.Null);
    }
}
