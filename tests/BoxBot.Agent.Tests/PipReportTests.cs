using System.Text.Json;
using BoxBot.Agent.Internal;

namespace BoxBot.Agent.Tests;

/// <summary>
/// pip's dry-run report is untrusted (the index wrote the metadata): only wheels with a sha256 and plain names and
/// versions make it into an approval, whatever flags pip was given.
/// </summary>
public class PipReportTests
{
    private const string HashA = "545f9546ae3cff9d053b6c12f1988f2d39dc644827cff54fc84bc1ce48c762de";
    private const string HashB = "d46c19202511d56d133fe49989ae92d546ddcac2d92260ec81349efcb12904c7";

    private static string Item(string name = "demo_pkg", string version = "1.0", string? url = null, string? hashField = null,
        bool requested = true, bool direct = false)
    {
        var fileUrl = JsonSerializer.Serialize(url ?? $"file:///srv/wheels/{name}-{version}-py3-none-any.whl");
        var archive = hashField ?? $"{{\"hash\": \"sha256={HashA}\"}}";
        return "{\"download_info\": {\"url\": " + fileUrl + ", \"archive_info\": " + archive + "}, " +
            $"\"is_direct\": {(direct ? "true" : "false")}, \"requested\": {(requested ? "true" : "false")}, " +
            "\"metadata\": {\"metadata_version\": \"2.1\", \"name\": " + JsonSerializer.Serialize(name) + ", \"version\": " + JsonSerializer.Serialize(version) + "}}";
    }

    private static string Report(params string[] items) => "{\"version\": \"1\", \"pip_version\": \"23.0.1\", \"install\": [" + string.Join(",", items) + "]}";

    [Test]
    public void A_report_of_pip_23_0_gives_every_wheel_with_its_hash_and_whether_it_was_asked_for()
    {
        var packages = PipReport.Parse(Report(
            Item(),
            Item("demo_dep", "1.2", hashField: "{\"hash\": \"sha256=" + HashB.ToUpperInvariant() + "\"}", requested: false)));

        Assert.That(packages.Select(p => (p.Name, p.Version, p.Sha256, p.File, p.Requested)), Is.EqualTo(new[]
        {
            ("demo_pkg", "1.0", HashA, "demo_pkg-1.0-py3-none-any.whl", true),
            ("demo_dep", "1.2", HashB, "demo_dep-1.2-py3-none-any.whl", false),
        }));
    }

    [Test]
    public void A_report_of_newer_pip_with_a_hashes_table_is_read_too()
    {
        var packages = PipReport.Parse(Report(Item(
            url: "https://files.example.org/packages/ab/cd/demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl#sha256=" + HashA,
            hashField: "{\"hash\": \"sha256=" + HashA + "\", \"hashes\": {\"sha256\": \"" + HashA + "\"}}")));

        Assert.That(packages.Single().File, Is.EqualTo("demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"));
    }

    [TestCase("file:///srv/wheels/evil-1.0.tar.gz")]
    [TestCase("https://files.example.org/evil-1.0.zip")]
    [TestCase("file:///srv/wheels/evil-1.0/")]
    [TestCase("git+https://example.org/evil.whl")]
    public void Anything_but_a_wheel_is_refused_because_building_it_would_run_its_code(string url)
    {
        var e = Assert.Throws<PackageException>(() => PipReport.Parse(Report(Item("ok"), Item("evil", url: url))))!;

        Assert.That(e.Message, Does.Contain("evil 1.0 is not available as a wheel"));
    }

    [TestCase("{}")]
    [TestCase("""{"hash": "md5=0123456789abcdef0123456789abcdef"}""")]
    [TestCase("""{"hashes": {"md5": "0123456789abcdef0123456789abcdef"}}""")]
    [TestCase("""{"hash": "sha256=abc"}""")]
    [TestCase("""{"hash": "sha256=zz5f9546ae3cff9d053b6c12f1988f2d39dc644827cff54fc84bc1ce48c762de"}""")]
    public void A_wheel_without_a_usable_sha256_is_refused_since_its_install_could_not_be_pinned(string archiveInfo)
    {
        var e = Assert.Throws<PackageException>(() => PipReport.Parse(Report(Item(hashField: archiveInfo))))!;

        Assert.That(e.Message, Does.Contain("no sha256"));
    }

    [TestCase("demo\n--index-url=http://evil.example/simple", "1.0")]
    [TestCase("-r/etc/passwd", "1.0")]
    [TestCase("demo pkg", "1.0")]
    [TestCase("demo", "1.0 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [TestCase("demo", "1.0\n--trusted-host evil")]
    [TestCase("demo", "--pre")]
    [TestCase("demo", "")]
    public void Metadata_that_would_inject_into_the_requirements_file_is_refused(string name, string version)
    {
        var e = Assert.Throws<PackageException>(() => PipReport.Parse(Report(Item(name, version, url: "file:///w/demo-1.0-py3-none-any.whl"))))!;

        Assert.That(e.Message, Does.Contain("unusable name or version").And.Not.Contain("\n"));
    }

    [Test]
    public void A_direct_url_is_refused() =>
        Assert.Throws<PackageException>(() => PipReport.Parse(Report(Item(direct: true))));

    [Test]
    public void The_same_project_twice_is_refused() =>
        Assert.Throws<PackageException>(() => PipReport.Parse(Report(Item("Demo_Pkg"), Item("demo-pkg"))));

    [TestCase("not json")]
    [TestCase("[]")]
    [TestCase("""{"install": {}}""")]
    [TestCase("""{"install": []}""")]
    public void A_malformed_or_empty_report_is_refused(string json) =>
        Assert.Throws<PackageException>(() => PipReport.Parse(json));

    [Test]
    public void At_most_64_packages_are_approved_at_once()
    {
        Assert.Throws<PackageException>(() => PipReport.Parse(Report([.. Enumerable.Range(0, 65).Select(i => Item("p" + i))])));
        Assert.That(PipReport.Parse(Report([.. Enumerable.Range(0, 64).Select(i => Item("p" + i))])), Has.Count.EqualTo(64));
    }

    [Test]
    public void The_requirements_file_pins_each_package_to_its_version_and_hash()
    {
        var text = Pip.RequirementsFile([Packages.Wheel("demo_pkg", "1.0"), Packages.Wheel("dep", "2.0", hash: 'b')]);

        Assert.That(text, Is.EqualTo($"demo_pkg==1.0 --hash=sha256:{new string('a', 64)}\ndep==2.0 --hash=sha256:{new string('b', 64)}\n"));
    }

    [Test]
    public void The_requirements_file_refuses_a_package_that_is_not_plain()
    {
        Assert.Throws<PackageException>(() => Pip.RequirementsFile([Packages.Wheel("demo", "1.0") with { Version = "1.0\n-r /etc/passwd" }]));
        Assert.Throws<PackageException>(() => Pip.RequirementsFile([Packages.Wheel("demo", "1.0") with { Sha256 = "x" }]));
    }

    [Test]
    public void Pips_error_lines_are_kept_and_its_chatter_is_not()
    {
        var result = new ToolResult(1, "", """
            Looking in links: /srv/wheels
            Processing ./demo_dep-1.2-py3-none-any.whl
            ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.
                demo_dep==1.2 from file:///srv/wheels/demo_dep-1.2-py3-none-any.whl:
                    Expected sha256 d46c
                         Got        5ca2
            """);

        Assert.That(result.ErrorSummary(), Is.EqualTo(
            "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. | demo_dep==1.2 from file:///srv/wheels/demo_dep-1.2-py3-none-any.whl: | Expected sha256 d46c | Got        5ca2"));
    }

    [Test]
    public void When_pip_cannot_reach_the_index_the_cause_from_its_retry_warnings_comes_first()
    {
        var result = new ToolResult(1, "", """
            WARNING: Retrying (Retry(total=1, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f9812c3add0>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/requests/
            WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f9812c3ba10>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/requests/
            ERROR: Could not find a version that satisfies the requirement requests (from versions: none)
            ERROR: No matching distribution found for requests
            """);

        Assert.That(result.ErrorSummary(), Does.StartWith(
            "pip could not reach the package index for /simple/requests/ ([agent] package_index_url): [Errno -2] Name or service not known | ERROR: Could not find a version"));
    }

    [Test]
    public void A_certificate_failure_is_named_by_its_error()
    {
        var result = new ToolResult(1, "", """
            WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))': /simple/requests/
            ERROR: No matching distribution found for requests
            """);

        Assert.That(result.ErrorSummary(), Does.StartWith("pip could not reach the package index for /simple/requests/ ([agent] package_index_url): SSLError"));
    }
}
