using BoxBot.Contracts;
using BoxBot.Ipc;

namespace BoxBot.Agent.Tests;

/// <summary>Specs end up on pip's command line: only plain requirements get through, never options.</summary>
public class PackageSpecsTests
{
    [TestCase("requests")]
    [TestCase("requests==2.31.0")]
    [TestCase("numpy>=1.26,<2")]
    [TestCase("zope.interface~=6.0")]
    [TestCase("foo_bar-baz==1.0.post1")]
    [TestCase("Pillow!=10.0.0,>=9")]
    [TestCase("a==1.*")]
    [TestCase("x")]
    public void Plain_requirements_are_accepted(string spec) =>
        Assert.That(PackageSpecs.Validate([spec]), Is.EqualTo(new[] { spec }));

    [TestCase("--index-url=http://x")]
    [TestCase("--index-url")]
    [TestCase("-r/etc/passwd")]
    [TestCase("-r")]
    [TestCase("-e.")]
    [TestCase("-")]
    [TestCase("--extra-index-url=http://evil.example/simple")]
    [TestCase("--trusted-host=evil.example")]
    [TestCase("requests --index-url http://x")]
    [TestCase("requests\n--index-url=http://x")]
    [TestCase("requests==1.0\n")]
    [TestCase("requests\r\n-r/etc/passwd")]
    [TestCase("requests==--pre")]
    [TestCase("requests==1.0,--no-deps")]
    [TestCase("requests @ https://evil.example/requests.whl")]
    [TestCase("requests@https://evil.example/requests.whl")]
    [TestCase("https://evil.example/requests-2.0-py3-none-any.whl")]
    [TestCase("git+https://evil.example/requests")]
    [TestCase("./requests-2.0-py3-none-any.whl")]
    [TestCase("/tmp/requests-2.0-py3-none-any.whl")]
    [TestCase("requests[security]")]
    [TestCase("requests;python_version>'3'")]
    [TestCase("requests===1.0")]
    [TestCase("requests==")]
    [TestCase("requests==1.0,")]
    [TestCase(" requests")]
    [TestCase("")]
    [TestCase("reqüests")]
    [TestCase("requests\u00a0==1")]
    public void Anything_else_is_refused_before_pip_sees_it(string spec)
    {
        var e = Assert.Throws<RpcException>(() => PackageSpecs.Validate(["ok", spec]))!;

        Assert.That(e.Code, Is.EqualTo(RpcErrorCodes.InvalidParams));
        Assert.That(e.Message, Does.Contain("is not a package requirement"));
    }

    [Test]
    public void A_spec_over_100_characters_is_refused() =>
        Assert.Throws<RpcException>(() => PackageSpecs.Validate([new string('a', 101)]));

    [Test]
    public void One_to_ten_specs_may_be_requested()
    {
        Assert.Throws<RpcException>(() => PackageSpecs.Validate([]));
        Assert.Throws<RpcException>(() => PackageSpecs.Validate(null));
        Assert.Throws<RpcException>(() => PackageSpecs.Validate([.. Enumerable.Range(0, 11).Select(i => "p" + i)]));
        Assert.That(PackageSpecs.Validate([.. Enumerable.Range(0, 10).Select(i => "p" + i)]), Has.Count.EqualTo(10));
    }

    [Test]
    public void The_same_project_twice_under_two_spellings_is_refused()
    {
        var e = Assert.Throws<RpcException>(() => PackageSpecs.Validate(["Foo_Bar==1", "foo.bar>=2"]))!;

        Assert.That(e.Message, Does.Contain("names a package twice"));
    }

    [Test]
    public void Every_bad_spec_is_named_at_once_with_control_characters_made_visible()
    {
        var e = Assert.Throws<RpcException>(() => PackageSpecs.Validate(["-r/etc/passwd", "ok", "x\n--pre"]))!;

        Assert.That(e.Message, Does.Contain("'-r/etc/passwd'").And.Contain("'x?--pre'").And.Not.Contain("\n"));
    }

    [TestCase(null, null)]
    [TestCase("   ", null)]
    [TestCase("  for the weather script ", "for the weather script")]
    [TestCase("für das Wetter 🌦", "für das Wetter 🌦")]
    public void A_reason_is_optional_and_trimmed(string? reason, string? expected) =>
        Assert.That(PackageSpecs.ValidateReason(reason), Is.EqualTo(expected));

    [TestCase("line one\nline two")]
    [TestCase("bell\a")]
    [TestCase("harmless\u202Edecnavda")]
    [TestCase("zero\u200Bwidth")]
    [TestCase("separator\u2028here")]
    public void A_reason_that_could_mislead_the_person_deciding_is_refused(string reason) =>
        Assert.Throws<RpcException>(() => PackageSpecs.ValidateReason(reason));

    [Test]
    public void A_reason_over_200_characters_is_refused()
    {
        Assert.Throws<RpcException>(() => PackageSpecs.ValidateReason(new string('x', 201)));
        Assert.That(PackageSpecs.ValidateReason(new string('x', 200)), Has.Length.EqualTo(200));
    }

    [TestCase("Foo_Bar", "foo-bar")]
    [TestCase("zope.interface", "zope-interface")]
    [TestCase("a__-.b", "a-b")]
    public void Names_are_normalized_as_pep_503_says(string name, string expected) =>
        Assert.That(PackageSpecs.Normalize(name), Is.EqualTo(expected));
}
